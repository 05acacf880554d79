import { useState } from 'preact/hooks';
import { api, type ConsolidationReport } from '../api';
import { ConfirmDialog, CountBar, ErrorMessage, PageTitle, shortId } from '../components';

const STEPS = [
  { step: 'relevance', description: 'score every memory’s decay (age, reads, importance)' },
  { step: 'forgetting', description: 'archive then delete memories under the threshold' },
  { step: 'compression', description: 'summarise clusters of similar memories into patterns' },
  { step: 'associations', description: 'suggest links between related memories (one search per memory)' },
];

const memoryLink = (id: string) => <a href={`/memories/${encodeURIComponent(id)}`}>{shortId(id)}</a>;

function Report({ report }: { report: ConsolidationReport }) {
  const bandMax = Math.max(0, ...(report.relevance?.bands.map((band) => band.count) ?? []));
  return (
    <section aria-labelledby="report-heading" data-testid="consolidation-report">
      <h2 id="report-heading">
        {report.dryRun ? 'Dry run: nothing was written' : 'Applied'} · {report.scanned} memories scanned in {Math.round(report.durationMs)}{' '}
        ms
      </h2>
      {report.relevance ? (
        <section class="card" aria-labelledby="relevance-heading">
          <h3 id="relevance-heading">Relevance</h3>
          <p>
            {report.relevance.scored} scored, mean {report.relevance.mean.toFixed(3)}, {report.relevance.stored} stored.
          </p>
          <table class="counts">
            <thead>
              <tr>
                <th scope="col">score band</th>
                <th scope="col">memories</th>
              </tr>
            </thead>
            <tbody>
              {report.relevance.bands.map((band) => (
                <tr key={band.from}>
                  <th scope="row">
                    {band.from}–{band.to}
                  </th>
                  <td>
                    <CountBar count={band.count} max={bandMax} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {report.forgetting ? (
        <section class="card" aria-labelledby="forgetting-heading">
          <h3 id="forgetting-heading">Forgetting ({report.forgetting.forgotten.length})</h3>
          {report.forgetting.forgotten.length === 0 ? <p>Nothing to forget.</p> : null}
          <ul>
            {report.forgetting.forgotten.map((item) => (
              <li key={item.id}>
                {memoryLink(item.id)} {item.preview} — score {item.score.toFixed(3)}, {Math.round(item.ageDays)} days: {item.reason}
              </li>
            ))}
          </ul>
          <p>
            Protected:{' '}
            {Object.entries(report.forgetting.protected)
              .map(([reason, count]) => `${reason} ${count}`)
              .join(', ') || 'none'}
            {report.forgetting.archive ? `. Archive: ${report.forgetting.archive}` : ''}
          </p>
        </section>
      ) : null}
      {report.compression ? (
        <section class="card" aria-labelledby="compression-heading">
          <h3 id="compression-heading">Compression ({report.compression.clusters.length} clusters)</h3>
          <ul>
            {report.compression.clusters.map((cluster) => (
              <li key={cluster.ids.join()}>
                <p>
                  {cluster.type}, {cluster.ids.length} memories ({cluster.summarySource} summary): {cluster.summary}
                </p>
                <p>
                  Sources:{' '}
                  {cluster.ids.map((id) => (
                    <span key={id}>{memoryLink(id)} </span>
                  ))}
                  {cluster.patternId ? <>→ pattern {memoryLink(cluster.patternId)}</> : null}
                </p>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {report.associations ? (
        <section class="card" aria-labelledby="associations-heading">
          <h3 id="associations-heading">
            Associations ({report.associations.suggestions.length} suggested, {report.associations.written} written)
          </h3>
          <ul>
            {report.associations.suggestions.map((suggestion) => (
              <li key={`${suggestion.sourceId}-${suggestion.targetId}`}>
                {memoryLink(suggestion.sourceId)} {suggestion.type} {memoryLink(suggestion.targetId)} — confidence{' '}
                {suggestion.confidence.toFixed(2)}: {suggestion.reasons.join('; ')}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </section>
  );
}

export function ConsolidationPage() {
  const [steps, setSteps] = useState<Set<string>>(new Set(['relevance', 'forgetting', 'compression']));
  const [userId, setUserId] = useState('');
  const [report, setReport] = useState<ConsolidationReport | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [confirmApply, setConfirmApply] = useState(false);

  const run = async (dryRun: boolean) => {
    setBusy(true);
    try {
      setReport(await api.consolidate({ dryRun, steps: [...steps], ...(userId ? { scope: { userId } } : {}) }));
      setError(undefined);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle>Consolidation</PageTitle>
      <p>
        Keeps a long-lived memory healthy (docs/consolidation.md). Preview first: a dry run reports what would happen and writes nothing.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void run(true);
        }}
      >
        <fieldset>
          <legend>Steps</legend>
          {STEPS.map(({ step, description }) => (
            <div key={step} class="checkbox">
              <input
                type="checkbox"
                id={`step-${step}`}
                checked={steps.has(step)}
                onChange={(event) => {
                  const next = new Set(steps);
                  if (event.currentTarget.checked) next.add(step);
                  else next.delete(step);
                  setSteps(next);
                }}
              />
              <label for={`step-${step}`}>
                <strong>{step}</strong>: {description}
              </label>
            </div>
          ))}
        </fieldset>
        <div class="filters">
          <div>
            <label for="consolidate-user">Only user (optional)</label>
            <input id="consolidate-user" value={userId} onInput={(event) => setUserId(event.currentTarget.value)} />
          </div>
        </div>
        <div class="actions">
          <button type="submit" disabled={busy || steps.size === 0}>
            Preview (dry run)
          </button>
          <button type="button" class="danger" disabled={busy || steps.size === 0} onClick={() => setConfirmApply(true)}>
            Apply…
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {report ? <Report report={report} /> : null}
      <ConfirmDialog
        open={confirmApply}
        title="Apply consolidation?"
        confirmLabel="Apply"
        onCancel={() => setConfirmApply(false)}
        onConfirm={() => {
          setConfirmApply(false);
          void run(false);
        }}
      >
        <p>Runs {[...steps].join(', ')} for real: forgetting archives and deletes memories, compression writes pattern memories.</p>
      </ConfirmDialog>
    </>
  );
}
