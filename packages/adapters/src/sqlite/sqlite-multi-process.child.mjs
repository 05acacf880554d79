// A child process of sqlite-multi-process.test.ts: plain Node, no TypeScript. It loads the
// bundled adapter, then writes, updates, counts accesses and searches in one shared file while
// sibling processes do the same. Prints a JSON summary on stdout; any error exits non-zero.
import { pathToFileURL } from 'node:url';

const [bundleDirectory, path, worker, countText, seedText] = process.argv.slice(2);
const { sqliteStore } = await import(pathToFileURL(`${bundleDirectory}/sqlite.js`).href);
const { contentHash, uuidv7 } = await import(pathToFileURL(`${bundleDirectory}/core.js`).href);

const dimensions = 16;
const count = Number(countText);
let seed = Number(seedText);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const vector = () => Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
const record = (content, overrides = {}) => {
  const now = new Date();
  return {
    id: uuidv7(now.getTime()),
    content,
    contentHash: contentHash(content),
    type: 'observation',
    subtype: null,
    tags: [`worker-${worker}`],
    metadata: { worker: Number(worker) },
    scope: { userId: 'shared-user' },
    conversationId: null,
    importance: 0.5,
    quality: null,
    accessCount: 0,
    lastAccessedAt: null,
    createdAt: now,
    updatedAt: now,
    validFrom: now,
    validTo: null,
    supersededBy: null,
    deletedAt: null,
    key: null,
    source: null,
    confidence: null,
    emotion: null,
    emotionalValence: null,
    emotionalArousal: null,
    episodeId: null,
    sequenceNumber: null,
    precedingMemoryId: null,
    sourceType: null,
    credibility: null,
    ...overrides,
  };
};

// ENGRAM_BUSY_TIMEOUT_MS lets a stress run shrink the driver's wait to exercise the retry path.
const busyTimeoutMs = process.env.ENGRAM_BUSY_TIMEOUT_MS ? Number(process.env.ENGRAM_BUSY_TIMEOUT_MS) : undefined;
const store = sqliteStore({ path, ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}) });
await store.open();
if (!(await store.getEmbedder())) await store.setEmbedder({ id: 'multi-process', dimensions });
await store.vectors.open(dimensions);

const summary = { items: 0, created: 0, duplicate: 0, updated: 0, accesses: 0, searches: 0 };
const mine = [];
let written = 0;
while (written < count) {
  const size = Math.min(count - written, 1 + Math.floor(random() * 20));
  const batch = [];
  for (let index = 0; index < size; index++) {
    batch.push({ record: record(`worker ${worker} memory ${written + index} zebra`), vector: vector() });
  }
  written += size;
  // Contended on purpose: every worker writes the same content and the same keys.
  batch.push({ record: record(`shared content ${written % 10}`), vector: vector() });
  batch.push({ record: record(`keyed by worker ${worker} at ${written}`, { key: `shared-key-${written % 5}` }), vector: vector() });
  summary.items += batch.length;
  for (const result of await store.write(batch)) {
    summary[result.status] += 1;
    if (result.status === 'created' && result.record.tags.includes(`worker-${worker}`)) mine.push(result.record.id);
  }
  const accessed = mine.slice(-3);
  await store.recordAccess(accessed, new Date());
  summary.accesses += accessed.length;
  await store.lexicalSearch('zebra memory', { tags: { any: [`worker-${worker}`] } }, 5);
  await store.vectors.search(vector(), 5, { where: { kind: 'compare', path: ['worker'], operator: 'eq', value: Number(worker) } });
  summary.searches += 2;
}
await store.close();
process.stdout.write(JSON.stringify(summary));
