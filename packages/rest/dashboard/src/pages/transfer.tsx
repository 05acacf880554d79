import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { baseTypes, ErrorMessage, PageTitle } from '../components';

type ImportSummary = Awaited<ReturnType<typeof api.importText>>;

export function TransferPage() {
  const [types, setTypes] = useState<string[]>([]);
  const [exportType, setExportType] = useState('');
  const [exportTags, setExportTags] = useState('');
  const [download, setDownload] = useState<{ url: string; name: string; lines: number } | null>(null);
  const [exportError, setExportError] = useState<unknown>();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('');
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [importError, setImportError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    baseTypes()
      .then(setTypes)
      .catch(() => {});
  }, []);
  useEffect(() => () => download && URL.revokeObjectURL(download.url), [download]);

  const runExport = async (event: Event) => {
    event.preventDefault();
    try {
      const body = await api.exportText({ types: exportType || undefined, tags: exportTags || undefined });
      const lines = body.split('\n').filter(Boolean).length;
      const url = URL.createObjectURL(new Blob([body], { type: 'application/x-ndjson' }));
      setDownload({ url, name: `engram-export-${new Date().toISOString().slice(0, 10)}.jsonl`, lines });
      setExportError(undefined);
    } catch (caught) {
      setExportError(caught);
    }
  };

  const runImport = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      setSummary(await api.importText(text));
      setImportError(undefined);
    } catch (caught) {
      setSummary(null);
      setImportError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle>Import and export</PageTitle>
      <div class="columns">
        <section aria-labelledby="export-heading" class="card">
          <h2 id="export-heading">Export</h2>
          <p>
            Every matching memory as JSON Lines, the format of <code>engram export</code> and <code>engram import</code>.
          </p>
          <form onSubmit={runExport}>
            <div class="filters">
              <div>
                <label for="export-type">Type</label>
                <select id="export-type" value={exportType} onChange={(event) => setExportType(event.currentTarget.value)}>
                  <option value="">any</option>
                  {types.map((type) => (
                    <option key={type} value={type}>
                      {type}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label for="export-tags">Tags (any)</label>
                <input id="export-tags" value={exportTags} onInput={(event) => setExportTags(event.currentTarget.value)} />
              </div>
            </div>
            <button type="submit">Prepare export</button>
          </form>
          <ErrorMessage error={exportError} />
          {download ? (
            <output class="block">
              {download.lines} {download.lines === 1 ? 'memory' : 'memories'} ready:{' '}
              <a href={download.url} download={download.name}>
                download {download.name}
              </a>
            </output>
          ) : null}
        </section>
        <section aria-labelledby="import-heading" class="card">
          <h2 id="import-heading">Import</h2>
          <p>
            JSON Lines: an export, or lines such as <code>{'{"content": "…", "tags": ["ci"]}'}</code>. All or nothing: a bad line rejects
            the import and names the line.
          </p>
          <form onSubmit={runImport}>
            <label for="import-file">File (.jsonl)</label>
            <input
              id="import-file"
              type="file"
              accept=".jsonl,.ndjson,.json,application/x-ndjson"
              onChange={async (event) => {
                const file = event.currentTarget.files?.[0];
                if (!file) return;
                setFileName(file.name);
                setText(await file.text());
              }}
            />
            <label for="import-text">Or paste lines</label>
            <textarea id="import-text" rows={8} class="code" value={text} onInput={(event) => setText(event.currentTarget.value)} />
            <button type="submit" disabled={busy || text.trim() === ''}>
              Import{fileName ? ` ${fileName}` : ''}
            </button>
          </form>
          <ErrorMessage error={importError} />
          {summary ? (
            <output class="block" data-testid="import-summary">
              Read {summary.records} {summary.records === 1 ? 'line' : 'lines'}: {summary.created} created, {summary.updated} updated,{' '}
              {summary.duplicates} duplicates, {summary.skipped} skipped (deleted in the export).
            </output>
          ) : null}
        </section>
      </div>
    </>
  );
}
