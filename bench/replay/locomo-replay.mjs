// Offline replay of LoCoMo search for ranking experiments (issue 15, fourth pass).
//
// Phase 1 (once, cached in --dump): ingest the conversations through the plain API into the
// in-memory store (Engram derives conversation context), keep every record and, per question and
// per negative query, the vector list (ranks, similarities) the hash embedder gives, plus the
// library's own top 25 per question: `--variant baseline` checks the replay against it (exit 1
// when any question differs). Delete the dump after changing the library's code.
// Phase 2 (seconds): rebuild the lexical list with the in-memory store's BM25 (the same code:
// `termFrequencies`, `queryTerms`, BM25_K1/B), then the searcher's pipeline from the sources —
// `collectCandidates`, `scoreCandidate`, `smoothAlongConversations`, `applyFloor`, unknown names —
// so a variant (query expansion, document expansion, an extra ranked list) is one function.
//
//   npm run build && node bench/replay/run.mjs [--variant name] [--dump path] [--data path]
//
// Phase 1 uses the built package (`engram`); phase 2 the TypeScript sources (run.mjs bundles them),
// so a ranking experiment edits the sources or variants.mjs and needs no build.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findDateCues } from '../../packages/core/src/retrieval/date-cues.ts';
import { collectCandidates, resolveRetrievalOptions, scoreCandidate } from '../../packages/core/src/retrieval/fusion.ts';
import { smoothAlongConversations } from '../../packages/core/src/retrieval/neighbours.ts';
import { applyFloor, HASH_RELEVANCE_FLOOR, queryNames } from '../../packages/core/src/retrieval/relevance-floor.ts';
import { BM25_B, BM25_K1, DEFAULT_CONTEXT_WEIGHT, queryTerms, termFrequencies, terms } from '../../packages/core/src/text/text.ts';

// Loaded at run time (not bundled): paths from the bundle in bench/replay/.build/.
const { DEFAULT_DATA, KS, loadLocomo, NEGATIVE_STRIDE, SPLITS } = await import(new URL('../../suites/locomo.mjs', import.meta.url).href);
const { variants } = await import(new URL('../variants.mjs', import.meta.url).href);

const { values } = parseArgs({
  options: {
    dump: { type: 'string', default: '/tmp/locomo-replay-dump.json' },
    variant: { type: 'string', default: 'baseline' },
    data: { type: 'string' },
  },
});

async function dump(path) {
  const engram = await import('engram');
  const loaded = loadLocomo(values.data ?? DEFAULT_DATA);
  const store = engram.inMemoryStore();
  const memory = new engram.Memory({ embedder: engram.hashEmbedder(), logger: false, store });
  await memory.ready();
  const records = [];
  const conversations = [];
  for (const conversation of loaded.conversations) {
    const added = await memory.addMany(
      conversation.turns.map((turn) => ({
        content: turn.content,
        type: 'observation/conversation',
        scope: { userId: conversation.id },
        conversationId: conversation.id,
        createdAt: turn.date,
        metadata: { diaId: turn.diaId, session: turn.session, speaker: turn.speaker },
      })),
    );
    const stored = await store.get(added.map((result) => result.memory.id));
    for (const record of stored) records.push(record);
    conversations.push({ id: conversation.id, questions: conversation.questions });
  }
  const vectorList = async (query, scope, limit) => {
    // Vector mode smooths and sorts by the final score: ask for every turn of the scope, keep the
    // index's own `limit` best ranks.
    const hits = await memory.search(query, { scope, limit: 1000, mode: 'vector', minScore: 0, explain: true });
    return hits
      .filter((hit) => hit.explanation.vector.rank <= limit)
      .map((hit) => ({ id: hit.memory.id, rank: hit.explanation.vector.rank, similarity: hit.explanation.vector.similarity }))
      .sort((a, b) => a.rank - b.rank);
  };
  for (const conversation of conversations) {
    const scope = { userId: conversation.id };
    for (const question of conversation.questions) {
      question.vector = await vectorList(question.question, scope, 100);
      // What the library itself answers (the default search, as the suite runs it): the replay's check.
      question.reference = (await memory.search(question.question, { scope, limit: 25 })).map((hit) => hit.memory.metadata.diaId);
    }
    const others = conversations
      .filter((other) => other.id !== conversation.id)
      .flatMap((other) =>
        loaded.conversations.find((item) => item.id === other.id).questions.filter((_, index) => index % NEGATIVE_STRIDE === 0),
      );
    conversation.negatives = [];
    for (const question of others)
      conversation.negatives.push({ question: question.question, vector: await vectorList(question.question, scope, 40) });
    process.stderr.write(`dumped ${conversation.id}\n`);
  }
  await memory.close();
  writeFileSync(path, JSON.stringify({ records, conversations }));
}

if (!existsSync(values.dump)) await dump(values.dump);
const { records: rawRecords, conversations } = JSON.parse(readFileSync(values.dump, 'utf8'));
const records = rawRecords.map((record) => ({ ...record, createdAt: new Date(record.createdAt), updatedAt: new Date(record.updatedAt) }));

/** A lexical index over documents built by `documentOf(record)` → { content, tags, context }. */
export function buildIndex(records, documentOf = (record) => record, contextWeight = DEFAULT_CONTEXT_WEIGHT) {
  const postings = new Map();
  const lengths = new Map();
  let total = 0;
  for (const record of records) {
    const document = documentOf(record);
    const { frequencies, length } = termFrequencies(document.content, document.tags ?? [], document.context, contextWeight);
    for (const [term, frequency] of frequencies) {
      let posting = postings.get(term);
      if (!posting) {
        posting = new Map();
        postings.set(term, posting);
      }
      posting.set(record.id, frequency);
    }
    if (document.extra) {
      for (const [term, frequency] of document.extra) {
        let posting = postings.get(term);
        if (!posting) {
          posting = new Map();
          postings.set(term, posting);
        }
        posting.set(record.id, (posting.get(term) ?? 0) + frequency);
      }
    }
    lengths.set(record.id, length);
    total += length;
  }
  return { postings, lengths, average: total / lengths.size, count: lengths.size };
}

/** BM25 over weighted query terms [{ term, weight }] within the ids `allowed`, best `limit`. */
export function bm25(index, weighted, allowed, limit) {
  const scores = new Map();
  for (const { term, weight } of weighted) {
    const posting = index.postings.get(term);
    if (!posting) continue;
    const idf = Math.log(1 + (index.count - posting.size + 0.5) / (posting.size + 0.5));
    for (const [id, frequency] of posting) {
      if (!allowed.has(id)) continue;
      const length = index.lengths.get(id);
      const norm = frequency + BM25_K1 * (1 - BM25_B + (BM25_B * length) / index.average);
      scores.set(id, (scores.get(id) ?? 0) + (weight * idf * frequency * (BM25_K1 + 1)) / norm);
    }
  }
  return [...scores]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
}

const byId = new Map(records.map((record) => [record.id, record]));
const scopeIds = new Map();
for (const record of records) {
  const key = record.scope.userId;
  if (!scopeIds.has(key)) scopeIds.set(key, new Set());
  scopeIds.get(key).add(record.id);
}
const options = resolveRetrievalOptions({});
const fusion = { ...options, vectorWeight: 0.05 };
const now = Date.now();

const variant = variants[values.variant];
if (!variant) throw new Error(`no variant ${values.variant}; known: ${Object.keys(variants).join(', ')}`);
const context = { records, byId, scopeIds, buildIndex, bm25, queryTerms, terms, fusion };
const ranker = variant(context);

/** One search as the searcher runs it (floor on): the kept hits, best first. */
function search(query, scope, vector, limit) {
  const allowed = scopeIds.get(scope);
  const candidateCount = Math.max(limit * 4, 40);
  const lexical = ranker.lexical(query, allowed, candidateCount);
  const candidates = collectCandidates(lexical, vector.slice(0, candidateCount));
  for (const [name, list] of Object.entries(ranker.extraLists?.(query, allowed, candidateCount) ?? {})) {
    list.forEach((match, index) => {
      const existing = candidates.get(match.id) ?? { id: match.id };
      existing[name] = { rank: index + 1, score: match.score };
      candidates.set(match.id, existing);
    });
  }
  const dateCues = findDateCues(query);
  let scored = [];
  for (const [id, candidate] of candidates) {
    const record = byId.get(id);
    const explanation = scoreCandidate(candidate, record, { lexical: true, vector: true }, fusion, now, dateCues);
    if (ranker.adjust) ranker.adjust(candidate, record, explanation, fusion);
    scored.push({ memory: record, explanation, similarity: candidate.vector?.similarity, own: explanation.score });
  }
  if (ranker.rerank) ranker.rerank(query, scored);
  smoothAlongConversations(scored, fusion.neighbourWeight);
  scored.sort((a, b) => b.explanation.score - a.explanation.score || b.own - a.own || (a.memory.id < b.memory.id ? 1 : -1));
  if (ranker.reorder) scored = ranker.reorder(scored);
  scored = scored.slice(0, Math.max(limit, 1000));
  const applied = applyFloor(query, scored, HASH_RELEVANCE_FLOOR, limit);
  let kept = applied.kept;
  if (kept.length > 0 && !applied.close) {
    const names = queryNames(query);
    if (names.length > 0 && !names.some((name) => applied.found.has(name.term))) {
      const anyHeld = names.some(
        (name) => index0.postings.get(name.term) && [...index0.postings.get(name.term).keys()].some((id) => allowed.has(id)),
      );
      if (!anyHeld) kept = [];
    }
  }
  if (process.env.REPLAY_DIAG) lastCandidates = { scored };
  return kept.slice(0, limit);
}
let lastCandidates;
const diagnosis = {};
const index0 = buildIndex(records);

const round = (value) => Number(value.toFixed(1));
let differing = 0;
function evaluate({ withNegatives = true, only } = {}) {
  const totals = {};
  const add = (group, k, value) => {
    totals[group] ??= { n: 0 };
    totals[group][k] = (totals[group][k] ?? 0) + value;
  };
  const negatives = {};
  const started = performance.now();
  for (const conversation of conversations) {
    if (only && !only.includes(conversation.id)) continue;
    const split = SPLITS.tune.includes(conversation.id) ? 'tune' : SPLITS.heldOut.includes(conversation.id) ? 'heldOut' : 'other';
    for (const question of conversation.questions) {
      const hits = search(question.question, conversation.id, question.vector, 25);
      const ranked = hits.map((hit) => hit.memory.metadata.diaId);
      if (values.variant === 'baseline' && question.reference && ranked.join() !== question.reference.join()) {
        differing += 1;
        if (process.env.REPLAY_DIAG === 'differences')
          console.log(question.question, '\n  replay ', ranked.slice(0, 10).join(), '\n  library', question.reference.slice(0, 10).join());
      }
      const gold = new Set(question.evidence);
      if (process.env.REPLAY_DIAG) {
        const order = lastCandidates.scored.map((item) => item.memory.metadata.diaId);
        for (const id of gold) {
          const position = order.indexOf(id);
          const bucket =
            position < 0
              ? 'not a candidate'
              : position < 5
                ? '1-5'
                : position < 10
                  ? '6-10'
                  : position < 25
                    ? '11-25'
                    : position < 50
                      ? '26-50'
                      : '51+';
          diagnosis[split] ??= {};
          diagnosis[split][bucket] = (diagnosis[split][bucket] ?? 0) + 1;
        }
        if (process.env.REPLAY_DIAG === 'misses' && split === 'heldOut') {
          const missing = [...gold].filter((id) => !ranked.slice(0, 10).includes(id));
          if (missing.length)
            console.log(
              `${question.category} ${question.question} → ${missing.map((id) => `${id}@${order.indexOf(id) + 1} ${records.find((r) => r.metadata.diaId === id && r.scope.userId === conversation.id)?.content.slice(0, 90)}`).join(' | ')}`,
            );
        }
      }
      for (const group of [split, 'all', `cat${question.category}`]) {
        totals[group] ??= { n: 0 };
        totals[group].n += 1;
        for (const k of KS) add(group, k, new Set(ranked.slice(0, k).filter((id) => gold.has(id))).size / gold.size);
      }
    }
    if (withNegatives)
      for (const negative of conversation.negatives) {
        const hits = search(negative.question, conversation.id, negative.vector, 10);
        for (const group of [split, 'all']) {
          negatives[group] ??= { n: 0, empty: 0 };
          negatives[group].n += 1;
          if (hits.length === 0) negatives[group].empty += 1;
        }
      }
  }
  return { totals, negatives, started };
}
const figureOf = (totals, group, k) => round((100 * totals[group][k]) / totals[group].n);
if (ranker.learn) {
  // Coordinate ascent on the tuning conversations (frac@5 + frac@10), the held-out ones only reported.
  // REPLAY_PARETO: a move counts only if neither tuning figure drops (the keep rule), then by the sum.
  const pareto = Boolean(process.env.REPLAY_PARETO);
  let floorFive = 0;
  let floorTen = 0;
  const objective = () => {
    const { totals } = evaluate({ withNegatives: false, only: SPLITS.tune });
    const five = figureOf(totals, 'tune', 5);
    const ten = figureOf(totals, 'tune', 10);
    if (pareto && (five < floorFive || ten < floorTen)) return Number.NEGATIVE_INFINITY;
    return five + ten;
  };
  const settle = () => {
    const { totals } = evaluate({ withNegatives: false, only: SPLITS.tune });
    floorFive = figureOf(totals, 'tune', 5);
    floorTen = figureOf(totals, 'tune', 10);
  };
  settle();
  // Names "fusion.x" set the searcher's own options (neighbourWeight, vectorWeight, dateWeight, rrfK).
  const read = (name) => (name.startsWith('fusion.') ? fusion[name.slice(7)] : ranker.weights[name]);
  const write = (name, value) => {
    if (name.startsWith('fusion.')) fusion[name.slice(7)] = value;
    else ranker.weights[name] = value;
  };
  let best = objective();
  console.log('start', JSON.stringify(ranker.weights), best);
  for (let pass = 0; pass < Number(process.env.REPLAY_PASSES ?? 2); pass++) {
    for (const [name, grid] of Object.entries(ranker.learn)) {
      let bestValue = read(name);
      for (const value of grid) {
        if (value === bestValue) continue;
        const previous = read(name);
        write(name, value);
        const score = objective();
        if (score > best + 1e-9) {
          best = score;
          bestValue = value;
        }
        write(name, previous);
      }
      write(name, bestValue);
      settle();
      console.log(pass, name, bestValue, best.toFixed(1));
    }
  }
  console.log('learned', JSON.stringify(ranker.weights), JSON.stringify(fusion));
}
const { totals, negatives, started } = evaluate();
const figure = (group, k) => figureOf(totals, group, k);
const line = `${values.variant}: tuning ${figure('tune', 5)} / ${figure('tune', 10)}, held-out ${figure('heldOut', 5)} / ${figure('heldOut', 10)}, all ${figure('all', 5)} / ${figure('all', 10)}; frac@10 cat1..5 ${[1, 2, 3, 4, 5].map((c) => figure(`cat${c}`, 10)).join(' ')}; negatives empty tuning ${round((100 * negatives.tune.empty) / negatives.tune.n)} % / held-out ${round((100 * negatives.heldOut.empty) / negatives.heldOut.n)} % / all ${round((100 * negatives.all.empty) / negatives.all.n)} % (${((performance.now() - started) / 1000).toFixed(1)} s)`;
console.log(line);
if (values.variant === 'baseline') {
  console.log(`questions whose top 25 differs from the library's own search: ${differing}`);
  // The replay is only worth its figures while it answers what the library answers.
  if (differing > 0) process.exitCode = 1;
}
if (process.env.REPLAY_DIAG) console.log(JSON.stringify(diagnosis));
