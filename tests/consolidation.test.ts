import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import {
  type AddInput,
  type ConsolidationReport,
  DEFAULT_RETENTION_DAYS,
  decayScore,
  hashEmbedder,
  inMemoryStore,
  Memory,
  type MemoryOptions,
  type MemoryRecord,
  type MemoryStore,
  memoryArchive,
  ValidationError,
} from '@engram/core';
import { jsonlArchive } from 'engram';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { importMemories } from '../packages/engram/src/cli/transfer.js';
import { usePglite } from './support/postgres.js';
import { seededRandom as mulberry32 } from './support/random.js';

const pglite = usePglite();
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-consolidation-test-'));
  directories.push(directory);
  return directory;
}

const DAY = 86_400_000;
const NOW = new Date('2026-01-01T00:00:00.000Z');
const START = Date.UTC(2025, 0, 1);

const TOPICS = ['the billing service', 'the search index', 'the mobile app', 'the CI pipeline', 'the auth gateway', 'the data warehouse'];
const ACTIVITIES = ['reviewing a pull request', 'reading logs', 'pairing with Sam', 'running the test suite', 'profiling a request'];

/**
 * A year of seeded agent activity: daily observations, learnings, decisions and errors, plus a
 * burst of near-identical CI failures every month (what compression should fold).
 */
function syntheticYear(seed = 7): AddInput[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const inputs: AddInput[] = [];
  for (let day = 0; day < 365; day++) {
    const createdAt = new Date(START + day * DAY + Math.floor(random() * 8) * 3_600_000);
    const roll = random();
    const type = roll < 0.6 ? 'observation' : roll < 0.75 ? 'learning' : roll < 0.9 ? 'decision' : 'error';
    inputs.push({
      content: `Day ${day}: ${type} about ${pick(TOPICS)} while ${pick(ACTIVITIES)}, note ${Math.floor(random() * 1e6)}`,
      type,
      importance: pick([0.1, 0.2, 0.3, 0.5, 0.6]),
      tags: [pick(['backend', 'frontend', 'infra'])],
      createdAt,
    });
    if (day % 30 === 5) {
      for (let repeat = 0; repeat < 4; repeat++) {
        inputs.push({
          content: `CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job ${['lint', 'test', 'build', 'pack'][repeat]} (month ${Math.floor(day / 30)})`,
          type: 'failure',
          importance: 0.3,
          tags: ['ci'],
          createdAt: new Date(createdAt.getTime() + repeat * DAY),
        });
      }
    }
  }
  return inputs;
}

/** The report with ids replaced by contents and timing left out: comparable across stores. */
function portable(report: ConsolidationReport, contents: Map<string, string>): unknown {
  const { durationMs: _duration, ...rest } = report;
  return JSON.parse(
    JSON.stringify(rest, (_key, value) => (typeof value === 'string' && contents.has(value) ? contents.get(value) : value)),
  );
}

async function everything(store: MemoryStore): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ includeSuperseded: true }, { limit: 1000, includeDeleted: true, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return records;
}

const backends: Array<[string, () => { store: MemoryStore; files?: string[] }]> = [
  ['memory', () => ({ store: inMemoryStore() })],
  [
    'sqlite',
    () => {
      const path = join(temporaryDirectory(), 'memory.db');
      return { store: sqliteStore({ path }), files: [path, `${path}-wal`] };
    },
  ],
  ['postgres', () => ({ store: postgresStore({ pglite: pglite.database, schema: pglite.nextSchema() }) })],
];

describe.each(backends)('consolidation on %s', (_name, createStore) => {
  const open: Memory[] = [];
  afterEach(async () => {
    for (const memory of open.splice(0)) await memory.close();
  });
  function createMemory(options: Partial<MemoryOptions> = {}) {
    const created = createStore();
    const archive = memoryArchive();
    const memory = new Memory({
      store: created.store,
      embedder: hashEmbedder(),
      logger: false,
      now: () => NOW.getTime(),
      ...options,
      consolidation: { archive, ...options.consolidation },
    });
    open.push(memory);
    return { memory, archive, files: created.files ?? [], store: created.store };
  }
  async function old(memory: Memory, content: string, extra: Partial<AddInput> = {}) {
    return (await memory.add({ content, type: 'observation', importance: 0.2, createdAt: new Date(NOW.getTime() - 300 * DAY), ...extra }))
      .memory;
  }

  it('a dry run over a year of activity is deterministic and writes nothing', { timeout: 120_000 }, async () => {
    // Associations cost one search per memory: 40 are enough to show they write nothing.
    const options = { consolidation: { associations: { limit: 40 } } };
    const first = createMemory(options);
    await first.memory.addMany(syntheticYear());
    const contents = new Map((await everything(first.store)).map((record) => [record.id, record.content]));
    const before = await everything(first.store);
    const bytes = () => first.files.map((file) => statSync(file, { throwIfNoEntry: false })?.size ?? 0);
    const bytesBefore = bytes();

    const report = await first.memory.consolidate({ steps: ['relevance', 'forgetting', 'compression', 'associations'] });
    expect(report.dryRun).toBe(true);
    expect(report.scanned).toBe(before.length);
    expect(report.relevance?.stored).toBe(0);
    expect(report.forgetting?.forgotten.length).toBeGreaterThan(50);
    expect(report.forgetting?.archive).toBeNull();
    expect(report.compression?.clusters.length).toBeGreaterThanOrEqual(8);
    expect(report.compression?.clusters.every((cluster) => cluster.patternId === undefined)).toBe(true);
    expect(report.associations?.written).toBe(0);

    // Nothing written: records (deleted ones included), edges, archive, file bytes.
    expect(await everything(first.store)).toEqual(before);
    expect(await first.store.relationsOf([...contents.keys()], { direction: 'both' })).toEqual([]);
    expect(first.archive.entries).toEqual([]);
    expect(bytes()).toEqual(bytesBefore);

    // Deterministic: the same run again, and the same seed in a fresh store, report the same.
    const again = await first.memory.consolidate({ steps: ['relevance', 'forgetting', 'compression', 'associations'] });
    expect(portable(again, contents)).toEqual(portable(report, contents));
    const second = createMemory(options);
    await second.memory.addMany(syntheticYear());
    const secondContents = new Map((await everything(second.store)).map((record) => [record.id, record.content]));
    const fresh = await second.memory.consolidate({ steps: ['relevance', 'forgetting', 'compression', 'associations'] });
    expect(portable(fresh, secondContents)).toEqual(portable(report, contents));
  });

  it('forgetting archives then soft-deletes, and never takes linked, important, keyed or keep-tagged memories', async () => {
    const { memory, archive } = createMemory();
    const faded = await old(memory, 'Opened the settings page once');
    const linkedA = await old(memory, 'Saw a flaky test in the payments suite');
    const linkedB = await old(memory, 'Reran the payments suite and it passed');
    await memory.link(linkedA.id, linkedB.id, 'related');
    const important = await old(memory, 'The production database password rotates on the 1st', { importance: 0.9 });
    const keyed = await old(memory, 'Preferred editor: vim', { key: 'editor' });
    const kept = await old(memory, 'The office wifi is called Engram-5G', { tags: ['keep'] });
    const young = (
      await memory.add({ content: 'Glanced at the dashboard', importance: 0.01, createdAt: new Date(NOW.getTime() - 10 * DAY) })
    ).memory;

    const deleted = vi.fn();
    memory.on('memory:deleted', deleted);
    const report = await memory.consolidate({ dryRun: false, steps: ['forgetting'] });

    expect(report.forgetting?.forgotten.map((entry) => entry.id)).toEqual([faded.id]);
    expect(report.forgetting?.forgotten[0]?.reason).toMatch(/^decay score 0\.\d{4} < 0\.05 and 300 days old \(≥ 90\)$/);
    expect(report.forgetting?.protected).toEqual({ linked: 2, important: 1, keyed: 1, 'keep-tag': 1 });
    expect(report.forgetting?.archive).toBe('memory');
    for (const survivor of [linkedA, linkedB, important, keyed, kept, young]) expect(await memory.get(survivor.id)).not.toBeNull();
    expect(await memory.get(faded.id)).toBeNull();
    expect(archive.entries).toEqual([{ record: faded, reason: 'forgotten' }]);
    expect((await memory.history(faded.id)).at(-1)?.event).toBe('deleted');
    expect(deleted).toHaveBeenCalledWith({ id: faded.id, memory: faded });
  });

  it('relevance stores each decay score, and search can rerank by it', async () => {
    const { memory, store } = createMemory({ retrieval: { decay: { weight: 0.3 } } });
    const stale = await old(memory, 'Deploy checklist: tag the release, then run the migration');
    const fresh = (await memory.add({ content: 'Deploy checklist: run the migration, then tag the release', importance: 0.8 })).memory;
    await memory.link(fresh.id, stale.id, 'related');

    const dry = await memory.consolidate({ steps: ['relevance'] });
    expect((await memory.get(stale.id))?.decayScore).toBeUndefined();
    const report = await memory.consolidate({ dryRun: false, steps: ['relevance'] });
    expect(report.relevance).toMatchObject({ scored: 2, stored: 2 });
    expect(dry.relevance?.lowest).toEqual(report.relevance?.lowest);
    const parameters = { retentionDays: DEFAULT_RETENTION_DAYS, accessBoost: 0.2, connectionBoost: 0.2 };
    expect((await store.get([stale.id]))[0]?.decayScore).toBeCloseTo(decayScore(stale, NOW.getTime(), 1, parameters), 10);
    expect((await memory.get(fresh.id))?.decayScore).toBeCloseTo(decayScore(fresh, NOW.getTime(), 1, parameters), 10);
    // Scores are not history: nothing but 'created' was recorded.
    expect((await memory.history(stale.id)).map((entry) => entry.event)).toEqual(['created']);

    const hits = await memory.search('deploy checklist migration release', { explain: true });
    expect(hits.map((hit) => hit.memory.id)).toEqual([fresh.id, stale.id]);
    const staleHit = hits.find((hit) => hit.memory.id === stale.id);
    expect(staleHit?.explanation?.decay).toMatchObject({ stored: true });
    expect(staleHit?.explanation?.decay?.contribution).toBeCloseTo(0.3 * (staleHit?.memory.decayScore ?? Number.NaN), 10);
  });

  it('compression folds near duplicates into one pattern linked supports from each source, once', async () => {
    const { memory } = createMemory();
    const sources: MemoryRecord[] = [];
    for (const job of ['lint', 'test', 'build', 'pack']) {
      sources.push(
        (
          await memory.add({
            content: `CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job ${job}`,
            type: 'failure',
            tags: ['ci'],
            createdAt: new Date(NOW.getTime() - (10 + sources.length) * DAY),
          })
        ).memory,
      );
    }
    await memory.add({ content: 'The staging database runs Postgres 15 on port 5433', type: 'learning' });
    const far = await memory.add({
      content: 'CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job docs',
      type: 'failure',
      tags: ['ci'],
      createdAt: new Date(NOW.getTime() - 200 * DAY),
    });

    const dry = await memory.consolidate({ steps: ['compression'] });
    const ids = sources.map((source) => source.id).sort();
    expect(dry.compression?.clusters).toEqual([
      expect.objectContaining({ ids, type: 'error', summarySource: 'extractive', reason: expect.stringContaining('4 error memories') }),
    ]);
    expect(dry.compression?.clusters[0]?.summary).toContain('CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job');
    expect(await memory.count({ types: ['pattern'] })).toBe(0);

    const applied = await memory.consolidate({ dryRun: false, steps: ['compression'] });
    const patternId = applied.compression?.clusters[0]?.patternId as string;
    const pattern = await memory.get(patternId);
    expect(pattern).toMatchObject({ type: 'pattern', subtype: 'recurring_issue', tags: ['ci', 'consolidated'] });
    expect(pattern?.metadata).toEqual({ consolidation: { sources: ids, summary: 'extractive' } });
    const supporters = await memory.relations(patternId, { direction: 'in' });
    expect(supporters.map((edge) => [edge.sourceId, edge.type, edge.inferred]).sort()).toEqual(ids.map((id) => [id, 'supports', true]));
    for (const source of sources) expect(await memory.get(source.id)).not.toBeNull();
    expect(await memory.get(far.memory.id)).not.toBeNull();

    const rerun = await memory.consolidate({ dryRun: false, steps: ['compression'] });
    expect(rerun.compression?.clusters).toEqual([]);
    expect(await memory.count({ types: ['pattern'] })).toBe(1);
  });

  it('compression with archiveSources archives the unprotected sources and keeps the protected ones', async () => {
    const { memory, archive } = createMemory({ consolidation: { compression: { archiveSources: true } } });
    const sources: MemoryRecord[] = [];
    for (const [index, job] of ['lint', 'test', 'build'].entries()) {
      sources.push(
        (
          await memory.add({
            content: `Nightly deploy failed: health check on api-${job} timed out after 30 seconds`,
            type: 'failure',
            createdAt: new Date(NOW.getTime() - (5 + index) * DAY),
            ...(index === 0 ? { key: 'first-deploy-failure' } : {}),
          })
        ).memory,
      );
    }
    const report = await memory.consolidate({ dryRun: false, steps: ['compression'] });
    const cluster = report.compression?.clusters[0];
    expect(cluster?.archivedIds).toEqual([sources[1]?.id, sources[2]?.id].sort());
    expect(archive.entries.map((entry) => [entry.record.id, entry.reason]).sort()).toEqual(
      [sources[1]?.id, sources[2]?.id].sort().map((id) => [id, 'compressed']),
    );
    expect(await memory.get(sources[0]?.id as string)).not.toBeNull();
    expect(await memory.get(sources[1]?.id as string)).toBeNull();
    expect((await memory.relations(cluster?.patternId as string)).map((edge) => edge.sourceId)).toEqual([sources[0]?.id]);
  });

  it('associations suggest links above the confidence floor and write inferred edges only when applied', async () => {
    const { memory } = createMemory({ consolidation: { associations: { confidence: 0.5 } } });
    const bug = (await memory.add({ content: 'Login fails with a 500 when the session cookie has expired', type: 'bug' })).memory;
    await memory.add({ content: 'Fix: login refreshes the expired session cookie instead of failing with a 500', type: 'insight' });
    const dry = await memory.consolidate({ steps: ['associations'] });
    expect(dry.associations?.suggestions.length).toBeGreaterThan(0);
    expect(dry.associations?.suggestions.every((suggestion) => suggestion.confidence >= 0.5)).toBe(true);
    expect(await memory.relations(bug.id)).toEqual([]);
    const applied = await memory.consolidate({ dryRun: false, steps: ['associations'] });
    expect(applied.associations?.written).toBe(applied.associations?.suggestions.length);
    const edges = await memory.relations(bug.id);
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.every((edge) => edge.inferred)).toBe(true);
  });

  it('keeps to the scope, emits started/step/finished and reports progress', async () => {
    const { memory } = createMemory();
    await old(memory, 'Alice: the printer on floor 2 jams', { scope: { userId: 'alice' } });
    await old(memory, 'Bob: the printer on floor 3 works', { scope: { userId: 'bob' } });
    const events: string[] = [];
    memory.on('consolidation:started', (event) => events.push(`started ${event.total} ${event.dryRun}`));
    memory.on('consolidation:step', (event) => events.push(`${event.step} ${event.count}`));
    memory.on('consolidation:finished', (event) => events.push(`finished ${event.report.scanned}`));
    const progress = vi.fn();
    const report = await memory.consolidate({ scope: { userId: 'alice' }, onProgress: progress });
    expect(report.scanned).toBe(1);
    expect(report.forgetting?.forgotten.map((entry) => entry.preview)).toEqual(['Alice: the printer on floor 2 jams']);
    expect(events).toEqual(['started 1 true', 'relevance 1', 'forgetting 1', 'compression 0', 'finished 1']);
    expect(progress).toHaveBeenCalledWith({ step: 'scan', done: 1, total: 1 });
  });

  it('refuses to forget without an archive, and names bad options', async () => {
    const created = createStore();
    const memory = new Memory({ store: created.store, embedder: hashEmbedder(), logger: false, now: () => NOW.getTime() });
    open.push(memory);
    const faded = await old(memory, 'Opened the settings page once');
    await expect(memory.consolidate({ dryRun: false })).rejects.toThrow(/consolidation\.archive: forgetting archives every memory/);
    expect(await memory.get(faded.id)).not.toBeNull();
    // A dry run needs no archive.
    expect((await memory.consolidate()).forgetting?.forgotten.map((entry) => entry.id)).toEqual([faded.id]);
    const error = await memory.consolidate({ steps: ['decay' as never] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.field).toBe('options.steps.0');
    await expect(memory.consolidate({ now: 'yesterday-ish' })).rejects.toThrow(/options\.now/);
  });
});

describe('the JSONL archive', () => {
  it('restores forgotten memories exactly with import', async () => {
    const directory = temporaryDirectory();
    const archivePath = join(directory, 'memory.archive.jsonl');
    const memory = new Memory({
      store: sqliteStore({ path: join(directory, 'memory.db') }),
      embedder: hashEmbedder(),
      logger: false,
      now: () => NOW.getTime(),
      consolidation: { archive: jsonlArchive({ path: archivePath }) },
    });
    await memory.addMany(syntheticYear(11));
    const report = await memory.consolidate({ dryRun: false, steps: ['relevance', 'forgetting'] });
    const forgotten = report.forgetting?.forgotten ?? [];
    expect(forgotten.length).toBeGreaterThan(50);
    const lines = readFileSync(archivePath, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(forgotten.length);
    const archived = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(archived.map((record) => record.id)).toEqual(forgotten.map((entry) => entry.id));
    expect(archived.every((record) => record.deletedAt === null)).toBe(true);
    await memory.close();

    const restored = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    async function* read() {
      yield* lines;
    }
    const summary = await importMemories(restored, read());
    expect(summary).toMatchObject({ records: forgotten.length, created: forgotten.length, failed: 0 });
    const comparable = (record: Record<string, unknown>) => ({
      content: record.content,
      type: record.type,
      subtype: record.subtype,
      tags: record.tags,
      metadata: record.metadata,
      scope: record.scope,
      importance: record.importance,
      key: record.key,
      createdAt: record.createdAt instanceof Date ? record.createdAt.toISOString() : record.createdAt,
    });
    const back = (await restored.list({ limit: 1000 })).items.map((record) => comparable(record as unknown as Record<string, unknown>));
    expect(back.sort((a, b) => String(a.content).localeCompare(String(b.content)))).toEqual(
      archived.map(comparable).sort((a, b) => String(a.content).localeCompare(String(b.content))),
    );
    await restored.close();
  });
});

describe('compression summaries from a language model', () => {
  it("uses the Memory's model, and falls back to an extractive summary when it fails", async () => {
    const prompts: string[] = [];
    let fail = false;
    const model = {
      specificationVersion: 'v1' as const,
      id: 'test:double',
      async complete(request: { messages: Array<{ content: string }> }) {
        prompts.push(request.messages[0]?.content ?? '');
        if (fail) throw new Error('the model is down');
        return { text: 'CI builds keep failing on registry timeouts.' };
      },
    };
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false, now: () => NOW.getTime(), model });
    for (const job of ['lint', 'test', 'build']) {
      await memory.add({
        content: `CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job ${job}`,
        type: 'failure',
        tags: ['ci'],
        createdAt: new Date(NOW.getTime() - 3 * DAY),
      });
    }
    const report = await memory.consolidate({ steps: ['compression'] });
    expect(report.compression?.clusters[0]).toMatchObject({
      summary: 'CI builds keep failing on registry timeouts.',
      summarySource: 'model',
    });
    expect(prompts[0]).toContain('- CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job lint');
    fail = true;
    const fallback = await memory.consolidate({ steps: ['compression'] });
    expect(fallback.compression?.clusters[0]?.summarySource).toBe('extractive');
    await memory.close();
  });
});
