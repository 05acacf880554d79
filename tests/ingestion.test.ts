import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { hashEmbedder, inMemoryStore, Memory, type MemoryRecord, sqliteStore } from 'engram';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
/** The source name ingest gives a file: relative to the working directory when under it, else absolute. */
function sourceOf(file: string): string {
  const path = relative(process.cwd(), file);
  return path.startsWith('..') ? file : path;
}
function folder(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-ingest-test-'));
  directories.push(directory);
  return directory;
}

const GUIDE = `# Guide

Engram keeps memories for agents.

## Install

Run npm install engram.

### Windows

Use PowerShell as an administrator, then run the installer.

### Linux

Use your package manager.

## Usage

\`\`\`ts
const memory = new Memory();

await memory.add({ content: 'hello' });
\`\`\`
`;

const PAGE = `<!doctype html><html><head><title>Release notes</title><script>var tracking = "SECRET-TRACKER";</script>
<style>body { color: red }</style></head><body>
<nav><a href="/">Home</a> | <a href="/docs">Docs navigation menu</a></nav>
<header>Site header banner</header>
<h1>Version 2</h1><p>Faster search &amp; smaller files.</p>
<h2>Breaking changes</h2><ul><li>The <b>path</b> option is required.</li><li>Node 20 or later.</li></ul>
<footer>Copyright footer text</footer><script>alert("noise")</script></body></html>`;

async function pdf(pages: string[][], title?: string): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = document.addPage();
    for (const [index, line] of lines.entries()) page.drawText(line, { x: 50, y: 700 - index * 20, size: 12, font });
  }
  if (title) document.setTitle(title);
  return document.save();
}

describe('memory.ingest', () => {
  const open: Memory[] = [];
  afterEach(async () => {
    for (const memory of open.splice(0)) await memory.close();
  });
  function create(store = inMemoryStore()) {
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false });
    open.push(memory);
    return memory;
  }
  async function chunks(memory: Memory, source: string): Promise<MemoryRecord[]> {
    const items = (await memory.list({ where: { source }, limit: 100 })).items;
    return items.sort((a, b) => (a.metadata.chunk as number) - (b.metadata.chunk as number));
  }

  it('chunks Markdown by headings: context is the title and heading path, chunks follow each other', async () => {
    const directory = folder();
    const file = join(directory, 'guide.md');
    writeFileSync(file, GUIDE);
    const memory = create();
    const report = await memory.ingest(file, { tags: ['docs'], chunk: { targetTokens: 60, overlapTokens: 0 } });
    expect(report.failed).toBe(0);
    const source = sourceOf(file);
    expect(report.documents).toEqual([{ source, title: 'Guide', status: 'created', chunks: 5, bytes: Buffer.byteLength(GUIDE) }]);
    const stored = await chunks(memory, source);
    expect(stored.map((record) => record.context)).toEqual([
      'Guide > Guide',
      'Guide > Guide > Install',
      'Guide > Guide > Install > Windows',
      'Guide > Guide > Install > Linux',
      'Guide > Guide > Usage',
    ]);
    const windows = stored[2] as MemoryRecord;
    expect(windows.content).toBe('Use PowerShell as an administrator, then run the installer.');
    expect(windows.metadata).toMatchObject({
      source,
      chunk: 2,
      offset: GUIDE.indexOf('Use PowerShell'),
      headings: ['Guide', 'Install', 'Windows'],
    });
    expect(windows.tags).toEqual(['docs']);
    // The fenced code block stays whole.
    expect(stored[4]?.content).toContain("const memory = new Memory();\n\nawait memory.add({ content: 'hello' });");
    // Lexical search finds a chunk by its headings alone.
    const hits = await memory.search('install windows', { limit: 1 });
    expect(hits[0]?.memory.id).toBe(windows.id);
    // Chunks are linked `follows` in order.
    const edges = await memory.relations(windows.id, { direction: 'out' });
    expect(edges.map((edge) => [edge.type, edge.targetId])).toEqual([['follows', stored[1]?.id]]);
  });

  it('is idempotent, replaces the chunks of a changed file, and prunes a removed one', async () => {
    const directory = folder();
    const file = join(directory, 'notes.md');
    writeFileSync(file, '# Notes\n\nFirst paragraph.\n\n## Later\n\nSecond paragraph.\n');
    const memory = create(sqliteStore({ path: join(folder(), 'memory.db') }));
    const first = await memory.ingest(directory);
    expect(first.chunks).toMatchObject({ created: 2, updated: 0, deleted: 0 });
    const source = sourceOf(file);
    const before = await chunks(memory, source);

    const again = await memory.ingest(directory);
    expect(again.documents[0]?.status).toBe('unchanged');
    expect(again.chunks).toEqual({ created: 0, updated: 0, unchanged: 2, deleted: 0 });
    expect(await chunks(memory, source)).toEqual(before);

    writeFileSync(file, '# Notes\n\nFirst paragraph, edited.\n');
    const changed = await memory.ingest(directory);
    expect(changed.documents[0]?.status).toBe('updated');
    expect(changed.chunks).toMatchObject({ updated: 1, deleted: 1 });
    const after = await chunks(memory, source);
    expect(after.map((record) => record.content)).toEqual(['First paragraph, edited.']);
    expect((await memory.history(before[0]?.id as string)).map((entry) => entry.event)).toEqual(['created', 'updated']);
    expect((await memory.history(before[1]?.id as string)).at(-1)?.event).toBe('deleted');

    rmSync(file);
    const pruned = await memory.ingest(directory, { prune: true });
    expect(pruned.pruned).toEqual({ sources: [source], chunks: 1 });
    expect(await chunks(memory, source)).toEqual([]);
  });

  it('replaces a changed file in one transaction: a store failure while deleting its leftover chunks changes nothing', async () => {
    const directory = folder();
    const file = join(directory, 'notes.md');
    writeFileSync(file, '# Notes\n\nFirst paragraph.\n\n## Later\n\nSecond paragraph.\n\n## Last\n\nThird paragraph.\n');
    const database = new Database(join(folder(), 'memory.db'));
    const memory = create(sqliteStore({ database }));
    await memory.ingest(directory);
    const source = sourceOf(file);
    const before = await chunks(memory, source);
    expect(before).toHaveLength(3);
    const history = await Promise.all(before.map((record) => memory.history(record.id)));

    // The new version keeps one (edited) chunk: two leftovers are deleted in the same transaction.
    writeFileSync(file, '# Notes\n\nFirst paragraph, edited.\n');
    database.exec(`CREATE TRIGGER injected_failure BEFORE UPDATE OF deleted_at ON memories
                   BEGIN SELECT RAISE(ABORT, 'injected store failure'); END`);
    await expect(memory.ingest(directory)).rejects.toThrow(/injected store failure/);
    expect(await chunks(memory, source)).toEqual(before);
    expect(await Promise.all(before.map((record) => memory.history(record.id)))).toEqual(history);

    database.exec('DROP TRIGGER injected_failure');
    const changed = await memory.ingest(directory);
    expect(changed.chunks).toMatchObject({ updated: 1, deleted: 2 });
    expect((await chunks(memory, source)).map((record) => record.content)).toEqual(['First paragraph, edited.']);
  });

  it('keeps a chunk two documents share in each of them, so pruning one leaves the other whole', async () => {
    const memory = create();
    const shared = 'Every release is signed with the project key.';
    await memory.ingest([
      { text: `# A\n\n${shared}`, title: 'A', source: 'a.md' },
      { text: `# B\n\n${shared}`, title: 'B', source: 'b.md' },
    ]);
    const [a, b] = [await chunks(memory, 'a.md'), await chunks(memory, 'b.md')];
    expect(a.map((record) => record.content)).toEqual([shared]);
    expect(b.map((record) => record.content)).toEqual([shared]);
    expect(a[0]?.id).not.toBe(b[0]?.id);
    const report = await memory.ingest({ text: '# A\n\nSomething else entirely.', title: 'A', source: 'a.md' });
    expect(report.chunks).toMatchObject({ updated: 1, deleted: 0 });
    expect((await chunks(memory, 'b.md')).map((record) => record.content)).toEqual([shared]);
  });

  it('reads HTML without its navigation, scripts, styles, header and footer', async () => {
    const memory = create();
    const report = await memory.ingest({ buffer: Buffer.from(PAGE), filename: 'release.html' });
    expect(report.documents[0]).toMatchObject({ title: 'Release notes', status: 'created' });
    const stored = await chunks(memory, 'release.html');
    const text = stored.map((record) => record.content).join('\n');
    expect(text).toContain('Faster search & smaller files.');
    expect(text).toContain('The path option is required.');
    for (const noise of ['SECRET-TRACKER', 'navigation menu', 'header banner', 'Copyright', 'alert', 'color: red'])
      expect(text).not.toContain(noise);
    expect(stored.map((record) => record.context)).toContain('Release notes > Version 2 > Breaking changes');
  });

  it('reads a PDF page by page, with its title and page numbers', async () => {
    const directory = folder();
    const file = join(directory, 'manual.pdf');
    writeFileSync(
      file,
      await pdf([['Install on Windows', 'Run the installer and restart.'], ['Troubleshooting: delete the cache folder.']], 'Manual'),
    );
    const memory = create();
    const report = await memory.ingest(file);
    expect(report.documents[0]).toMatchObject({ title: 'Manual', status: 'created', chunks: 2 });
    const stored = await chunks(memory, sourceOf(file));
    expect(stored.map((record) => [record.metadata.page, record.content])).toEqual([
      [1, 'Install on Windows\nRun the installer and restart.'],
      [2, 'Troubleshooting: delete the cache folder.'],
    ]);
  });

  it('reads JSON, JSON Lines, CSV, code and text', async () => {
    const memory = create();
    const report = await memory.ingest(
      [
        { buffer: Buffer.from('{"name": "engram", "purpose": "memory for agents"}'), filename: 'package-info.json' },
        { buffer: Buffer.from('{"q": "port?", "a": 8443}\n\n{"q": "host?", "a": "db1"}\n'), filename: 'faq.jsonl' },
        { buffer: Buffer.from('city,population\n"Paris, France",2100000\nLyon,520000\n'), filename: 'cities.csv' },
        { buffer: Buffer.from('export function add(a, b) {\n  return a + b;\n}\n\nexport const zero = 0;\n'), filename: 'math.ts' },
        { text: 'A plain note.\n\nAnother paragraph.', title: 'Note' },
      ],
      { chunk: { targetTokens: 16, overlapTokens: 0 } },
    );
    expect(report.failed).toBe(0);
    expect((await chunks(memory, 'cities.csv')).map((record) => record.content)).toEqual([
      'city: Paris, France; population: 2100000',
      'city: Lyon; population: 520000',
    ]);
    expect((await chunks(memory, 'faq.jsonl')).map((record) => record.context)).toEqual(['faq.jsonl > line 1', 'faq.jsonl > line 3']);
    expect((await chunks(memory, 'package-info.json')).map((record) => record.context)).toEqual([
      'package-info.json > name',
      'package-info.json > purpose',
    ]);
    expect((await chunks(memory, 'math.ts')).map((record) => record.content)).toEqual([
      'export function add(a, b) {\n  return a + b;\n}',
      'export const zero = 0;',
    ]);
    expect((await chunks(memory, 'Note')).map((record) => record.content)).toEqual(['A plain note.\n\nAnother paragraph.']);
  });

  it('splits long sections near the token target with overlap', async () => {
    const memory = create();
    const sentence = (index: number) => `Sentence number ${index} talks about retention policies in some depth.`;
    const text = `# Long\n\n${Array.from({ length: 40 }, (_, index) => sentence(index)).join(' ')}`;
    await memory.ingest({ text, title: 'Long', format: 'markdown' }, { chunk: { targetTokens: 100, overlapTokens: 20 } });
    const stored = await chunks(memory, 'Long');
    expect(stored.length).toBeGreaterThan(4);
    for (const record of stored) expect(record.content.length).toBeLessThanOrEqual(100 * 4 + 20 * 4 + 1);
    // The second chunk starts with the end of the first.
    const first = stored[0]?.content ?? '';
    const carried = (stored[1]?.content ?? '').slice(0, 30);
    expect(first.slice(-20 * 4 - 1)).toContain(carried);
  });

  it('reports bad files per file and ingests the rest, writing nothing of a bad one', async () => {
    const directory = folder();
    writeFileSync(join(directory, 'good.md'), '# Good\n\nThis one is fine.\n');
    writeFileSync(join(directory, 'binary.txt'), Buffer.from([0x48, 0x00, 0x01, 0x02]));
    writeFileSync(join(directory, 'broken.pdf'), '%PDF-1.4 this is not really a pdf');
    writeFileSync(join(directory, 'huge.md'), `# Huge\n\n${'x'.repeat(5000)}\n`);
    writeFileSync(join(directory, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    writeFileSync(join(directory, 'bad.jsonl'), '{"ok": 1}\n{nope\n');
    mkdirSync(join(directory, 'node_modules'));
    writeFileSync(join(directory, 'node_modules', 'skipped.md'), '# Skipped\n');
    const memory = create();
    const report = await memory.ingest([directory, join(directory, 'missing.md')], { maxBytes: 4096 });
    const byName = Object.fromEntries(report.documents.map((document) => [document.source.replace(/^.*\//, ''), document]));
    expect(byName['good.md']?.status).toBe('created');
    expect(byName['binary.txt']?.error).toBe('binary file (it contains NUL bytes): not text');
    expect(byName['broken.pdf']?.error).toMatch(/^broken PDF/);
    expect(byName['huge.md']?.error).toMatch(/^too large: 5009 bytes \(the limit is 4096/);
    expect(byName['latin1.txt']?.error).toBe('not UTF-8 text');
    expect(byName['bad.jsonl']?.error).toMatch(/^line 2 is not valid JSON/);
    expect(byName['missing.md']?.error).toBe('no such file, or nothing matches');
    expect(byName['skipped.md']).toBeUndefined();
    expect(report.failed).toBe(6);
    expect(await memory.count()).toBe(1);
  });

  it('expands globs', async () => {
    const directory = folder();
    mkdirSync(join(directory, 'a', 'b'), { recursive: true });
    writeFileSync(join(directory, 'a', 'one.md'), 'one');
    writeFileSync(join(directory, 'a', 'b', 'two.md'), 'two');
    writeFileSync(join(directory, 'a', 'b', 'three.txt'), 'three');
    const memory = create();
    const report = await memory.ingest(`${directory}/**/*.md`);
    expect(report.documents.map((document) => document.source.replace(/^.*\//, '')).sort()).toEqual(['one.md', 'two.md']);
  });
});
