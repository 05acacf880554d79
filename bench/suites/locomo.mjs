// LoCoMo retrieval quality: one memory per conversation turn, every question searched within its
// own conversation, gold turns (the question's evidence) looked for in the top k.
//
//   node bench/suites/locomo.mjs [--data path] [--mode hybrid|lexical|vector[,…]] [--store sqlite|memory]
//                                [--context N] [--conversation-context N|off] [--conversations conv-26,conv-30]
//                                [--retrieval '{"rrfK":60}'] [--json file]
//
// The data (CC BY-NC 4.0) is never part of the project: it is read from --data, by default
// ../shared/data/locomo/locomo-dev.json next to the repository. Metric definitions:
// ../shared/data/locomo/README.md. `run()` is the entry point the bench harness imports.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_DATA = resolve(repositoryRoot, '../shared/data/locomo/locomo-dev.json');

export const KS = [1, 5, 10, 25];
export const CATEGORIES = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop', 5: 'adversarial' };
export const MODES = ['hybrid', 'lexical', 'vector'];
/** Every NEGATIVE_STRIDE-th question of the other conversations is asked in each conversation (the negative set). */
export const NEGATIVE_STRIDE = 4;
/**
 * Preceding turns of the same session passed by the caller as each memory's `context` (0: none,
 * the default: the plain API an agent, the MCP server or the REST server uses; Engram derives the
 * conversation context itself, see docs/conversation-context.md).
 */
export const DEFAULT_CONTEXT_TURNS = 0;
/**
 * Parameters are chosen on the tuning conversations and confirmed on the held-out ones, so a
 * gain that only fits the conversations it was tuned on shows up as a gap between the two.
 */
export const SPLITS = { tune: ['conv-26', 'conv-30', 'conv-41'], heldOut: ['conv-42', 'conv-43'] };

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** "1:56 pm on 8 May, 2023" → a UTC Date (the data gives no time zone). */
export function parseSessionDate(text) {
  const match = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})/i.exec(text ?? '');
  if (!match) return undefined;
  const [, hours, minutes, half, day, monthName, year] = match;
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month < 0) return undefined;
  const hour = (Number(hours) % 12) + (half.toLowerCase() === 'pm' ? 12 : 0);
  return new Date(Date.UTC(Number(year), month, Number(day), hour, Number(minutes)));
}

/** An evidence field as the README describes it: split on `;`/whitespace, zero padding stripped, `D:11:26` read as `D11:26`. */
export function normaliseEvidence(evidence) {
  const ids = [];
  for (const raw of evidence ?? []) {
    for (const part of String(raw).split(/[;\s]+/)) {
      const match = /^D:?(\d+):(\d+)$/.exec(part.trim());
      if (match) ids.push(`D${Number(match[1])}:${Number(match[2])}`);
    }
  }
  return [...new Set(ids)];
}

/** What a turn's memory holds: who said it, what they said, and the caption of an image they shared. */
export function turnContent(turn) {
  const caption = turn.blip_caption ? ` [image: ${turn.blip_caption}]` : '';
  return `${turn.speaker}: ${turn.text ?? ''}${caption}`.trim();
}

/**
 * The `context` of a turn's memory: the turns just before it in the same session, oldest first,
 * as an agent writing a conversation down turn by turn would know them.
 */
export function contextOf(turns, index, count) {
  const before = [];
  for (let back = 1; back <= count; back++) {
    const turn = turns[index - back];
    if (!turn || turn.session !== turns[index].session) break;
    before.unshift(turn.content);
  }
  return before.length > 0 ? { context: before.join('\n') } : {};
}

/** The samples as turns (with dates) and questions (with clean evidence), plus what was dropped. */
export function loadLocomo(path) {
  const samples = JSON.parse(readFileSync(path, 'utf8'));
  const conversations = [];
  let droppedEvidence = 0;
  let droppedQuestions = 0;
  for (const sample of samples) {
    const conversation = sample.conversation;
    const sessions = Object.keys(conversation)
      .map((key) => /^session_(\d+)$/.exec(key))
      .filter((match) => match && Array.isArray(conversation[match[0]]))
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
    const turns = [];
    for (const session of sessions) {
      const date = parseSessionDate(conversation[`session_${session}_date_time`]);
      if (!date) throw new Error(`${sample.sample_id}: session ${session} has no readable date`);
      for (const turn of conversation[`session_${session}`]) {
        turns.push({
          diaId: normaliseEvidence([turn.dia_id])[0] ?? turn.dia_id,
          session,
          date,
          speaker: turn.speaker,
          content: turnContent(turn),
        });
      }
    }
    const known = new Set(turns.map((turn) => turn.diaId));
    const questions = [];
    for (const qa of sample.qa ?? []) {
      const all = normaliseEvidence(qa.evidence);
      const evidence = all.filter((id) => known.has(id));
      droppedEvidence += all.length - evidence.length;
      if (evidence.length === 0) {
        droppedQuestions++;
        continue;
      }
      questions.push({ question: qa.question, category: qa.category, evidence });
    }
    conversations.push({ id: sample.sample_id, turns, questions });
  }
  return { conversations, droppedEvidence, droppedQuestions };
}

const percentile = (samples, p) => {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const round = (value, digits = 1) => Number(value.toFixed(digits));

/** frac@k and any@k (percentages) over a list of per-question outcomes. */
export function summarise(outcomes) {
  const summary = { questions: outcomes.length, frac: {}, any: {} };
  for (const k of KS) {
    const frac = outcomes.reduce((sum, outcome) => sum + outcome.found[k] / outcome.gold, 0);
    const any = outcomes.reduce((sum, outcome) => sum + (outcome.found[k] > 0 ? 1 : 0), 0);
    summary.frac[k] = outcomes.length ? round((100 * frac) / outcomes.length) : 0;
    summary.any[k] = outcomes.length ? round((100 * any) / outcomes.length) : 0;
  }
  return summary;
}

/** The breakdown the README asks for: all, categories 1–4, each category; and the tuning/held-out splits. */
export function breakdown(outcomes) {
  const groups = {
    all: summarise(outcomes),
    'cat1-4': summarise(outcomes.filter((outcome) => outcome.category !== 5)),
  };
  for (const category of Object.keys(CATEGORIES))
    groups[`cat${category}`] = summarise(outcomes.filter((outcome) => outcome.category === Number(category)));
  const splits = {};
  for (const [name, ids] of Object.entries(SPLITS)) {
    const subset = outcomes.filter((outcome) => ids.includes(outcome.conversation));
    if (subset.length > 0)
      splits[name] = { all: summarise(subset), 'cat1-4': summarise(subset.filter((outcome) => outcome.category !== 5)) };
  }
  return { groups, splits };
}

async function openMemory(engram, store, directory, retrieval, conversationContext) {
  const options = {
    embedder: engram.hashEmbedder(),
    logger: false,
    ...(retrieval ? { retrieval } : {}),
    ...(conversationContext !== undefined ? { conversationContext } : {}),
  };
  if (store === 'memory') return new engram.Memory({ ...options, store: engram.inMemoryStore() });
  return new engram.Memory({ ...options, store: engram.sqliteStore({ path: join(directory, 'locomo.db') }) });
}

/**
 * Ingests every conversation (one `addMany` per conversation, one memory per turn, the session
 * date as `createdAt`, the dia_id in metadata, one scope per conversation — `userId` and
 * `conversationId` are the sample id — and the turns before it as `context`), then runs every
 * question in each mode within its conversation's scope and scores the top 25.
 */
export async function run({
  full = false,
  data,
  progress,
  outDir,
  modes,
  store = 'sqlite',
  retrieval,
  contextTurns = DEFAULT_CONTEXT_TURNS,
  conversations: only,
  conversationContext,
} = {}) {
  void outDir; // the harness writes the results; this suite keeps nothing on disk
  const path = data ?? DEFAULT_DATA;
  if (!existsSync(path)) {
    const reason = data ? `no LoCoMo data at ${path}` : `no LoCoMo data at the default path ${path} (pass --data)`;
    return { suite: 'locomo', results: { skipped: true, reason }, markdown: `### LoCoMo\n\nSkipped: ${reason}.\n` };
  }
  const say = typeof progress === 'function' ? progress : () => {};
  const engram = await import('engram');
  const loaded = loadLocomo(path);
  const selected = only ? loaded.conversations.filter((conversation) => only.includes(conversation.id)) : loaded.conversations;
  // Small enough (about 15 s) that quick and full runs are the same.
  void full;
  const runModes = modes ?? MODES;
  const directory = mkdtempSync(join(tmpdir(), 'engram-locomo-'));
  const memory = await openMemory(engram, store, directory, retrieval, conversationContext);
  try {
    await memory.ready();
    // memory id → dia_ids (an exact duplicate turn would come back as the memory already stored).
    const turnsOf = new Map();
    let turnCount = 0;
    const ingestStart = performance.now();
    for (const conversation of selected) {
      const inputs = conversation.turns.map((turn, index) => ({
        content: turn.content,
        ...contextOf(conversation.turns, index, contextTurns),
        type: 'observation/conversation',
        scope: { userId: conversation.id },
        conversationId: conversation.id,
        createdAt: turn.date,
        metadata: { diaId: turn.diaId, session: turn.session, speaker: turn.speaker },
      }));
      const added = await memory.addMany(inputs);
      added.forEach((result, index) => {
        const id = result.memory.id;
        const list = turnsOf.get(id) ?? [];
        list.push(conversation.turns[index].diaId);
        turnsOf.set(id, list);
      });
      turnCount += inputs.length;
      say(`ingested ${conversation.id} (${inputs.length} turns)`);
    }
    const ingestSeconds = (performance.now() - ingestStart) / 1000;

    const results = {
      data: path,
      store,
      embedder: memory.embedder.id,
      retrieval: retrieval ?? {},
      contextTurns,
      conversationContext: conversationContext ?? 'default',
      conversations: selected.map((conversation) => conversation.id),
      turns: turnCount,
      questions: selected.reduce((sum, conversation) => sum + conversation.questions.length, 0),
      droppedEvidence: loaded.droppedEvidence,
      droppedQuestions: loaded.droppedQuestions,
      ingest: { seconds: round(ingestSeconds, 2), turnsPerSecond: Math.round(turnCount / ingestSeconds) },
      modes: {},
    };
    const limit = Math.max(...KS);
    const variants = runModes.flatMap((mode) => [
      { name: mode, mode, extra: {} },
      { name: `${mode}, no floor`, mode, extra: { minScore: 0 } },
    ]);
    for (const { name, mode, extra } of variants) {
      const outcomes = [];
      const latencies = [];
      // A few warm-up searches so the first timings do not measure statement preparation.
      for (const conversation of selected.slice(0, 1)) {
        for (const question of conversation.questions.slice(0, 5))
          await memory.search(question.question, { scope: { userId: conversation.id }, limit, mode, ...extra });
      }
      for (const conversation of selected) {
        for (const question of conversation.questions) {
          const began = performance.now();
          const hits = await memory.search(question.question, { scope: { userId: conversation.id }, limit, mode, ...extra });
          latencies.push(performance.now() - began);
          const ranked = hits.flatMap((hit) => turnsOf.get(hit.memory.id) ?? []);
          const gold = new Set(question.evidence);
          const found = {};
          for (const k of KS) found[k] = new Set(ranked.slice(0, k).filter((id) => gold.has(id))).size;
          outcomes.push({ conversation: conversation.id, category: question.category, gold: gold.size, found });
        }
      }
      results.modes[name] = {
        latencyMs: { p50: round(percentile(latencies, 50), 3), p95: round(percentile(latencies, 95), 3) },
        ...breakdown(outcomes),
        negatives: await negativeQueries(memory, selected, mode, extra),
      };
      say(`${name} frac@10 ${results.modes[name].groups.all.frac[10]}, negatives with no hit ${results.modes[name].negatives.all.empty} %`);
    }
    const targets = [];
    const hybrid = results.modes.hybrid;
    if (hybrid) {
      // The retrieval quality target of issue 6, met by the default (hybrid) search with the offline embedder.
      const value = hybrid.groups.all.frac[10];
      targets.push({ target: 'LoCoMo frac@10, all categories (hybrid, hash embedder)', goal: '≥ 70', value, unit: '%', met: value >= 70 });
      // Issue 15: plain API (no caller context), held-out conversations, relevance floor on.
      const heldOut = hybrid.splits.heldOut?.all;
      if (heldOut && contextTurns === 0) {
        targets.push({
          target: 'LoCoMo frac@10, held-out, plain API, floor on',
          goal: '≥ 80',
          value: heldOut.frac[10],
          unit: '%',
          met: heldOut.frac[10] >= 80,
        });
        targets.push({
          target: 'LoCoMo frac@5, held-out, plain API, floor on',
          goal: '≥ 72',
          value: heldOut.frac[5],
          unit: '%',
          met: heldOut.frac[5] >= 72,
        });
      }
      const empty = hybrid.negatives.all.empty;
      targets.push({ target: 'negative queries answered with no hit (floor on)', goal: '≥ 90', value: empty, unit: '%', met: empty >= 90 });
    }
    return { suite: 'locomo', results, markdown: markdown(results), targets };
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * The negative set: each conversation is asked every NEGATIVE_STRIDE-th question of the other
 * conversations (topics and people it never mentions); the share answered with no hit at all.
 */
async function negativeQueries(memory, conversations, mode, extra) {
  const counts = {};
  const count = (group, empty) => {
    counts[group] ??= { queries: 0, emptyCount: 0 };
    counts[group].queries += 1;
    if (empty) counts[group].emptyCount += 1;
  };
  for (const conversation of conversations) {
    const split = Object.entries(SPLITS).find(([, ids]) => ids.includes(conversation.id))?.[0];
    const others = conversations
      .filter((other) => other.id !== conversation.id)
      .flatMap((other) => other.questions.filter((_, index) => index % NEGATIVE_STRIDE === 0));
    for (const question of others) {
      const hits = await memory.search(question.question, { scope: { userId: conversation.id }, limit: 10, mode, ...extra });
      count('all', hits.length === 0);
      if (split) count(split, hits.length === 0);
    }
  }
  const summary = {};
  for (const [group, { queries, emptyCount }] of Object.entries(counts))
    summary[group] = { queries, empty: round((100 * emptyCount) / queries) };
  return summary;
}

/** The tables: per mode, frac@k and any@k per group, then the split check and timings. */
export function markdown(results) {
  if (results.skipped) return `### LoCoMo\n\nSkipped: ${results.reason}.\n`;
  const lines = [
    '### LoCoMo retrieval',
    '',
    `${results.conversations.length} conversations, ${results.turns} turns, ${results.questions} questions ` +
      `(${results.droppedQuestions} without valid evidence dropped); ${results.store} store, ${results.embedder}, ` +
      `caller context: ${results.contextTurns} preceding turn(s); Engram's conversation context: ${JSON.stringify(results.conversationContext)}; ` +
      `ingest ${results.ingest.turnsPerSecond} turns/s.`,
  ];
  for (const [mode, outcome] of Object.entries(results.modes)) {
    lines.push('', `**${mode}** — search p50 ${outcome.latencyMs.p50} ms, p95 ${outcome.latencyMs.p95} ms`, '');
    lines.push(`| group | n | ${KS.map((k) => `frac@${k}`).join(' | ')} | ${KS.map((k) => `any@${k}`).join(' | ')} |`);
    lines.push(`|---|--:|${KS.map(() => '--:').join('|')}|${KS.map(() => '--:').join('|')}|`);
    for (const [group, summary] of Object.entries(outcome.groups)) {
      const label = /^cat\d$/.test(group) ? `${group} ${CATEGORIES[group.slice(3)]}` : group;
      lines.push(
        `| ${label} | ${summary.questions} | ${KS.map((k) => summary.frac[k]).join(' | ')} | ${KS.map((k) => summary.any[k]).join(' | ')} |`,
      );
    }
    for (const [split, summary] of Object.entries(outcome.splits)) {
      lines.push(
        `| ${split === 'heldOut' ? 'held-out' : split} (${SPLITS[split].join(', ')}) all / cat1-4 | ${summary.all.questions} | ` +
          `${KS.map((k) => `${summary.all.frac[k]} / ${summary['cat1-4'].frac[k]}`).join(' | ')} | ${KS.map((k) => `${summary.all.any[k]} / ${summary['cat1-4'].any[k]}`).join(' | ')} |`,
      );
    }
    const negatives = Object.entries(outcome.negatives)
      .map(([group, summary]) => `${group === 'heldOut' ? 'held-out' : group} ${summary.empty} % of ${summary.queries}`)
      .join(', ');
    lines.push('', `Negative queries (other conversations' questions) answered with no hit: ${negatives}.`);
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      mode: { type: 'string' },
      store: { type: 'string', default: 'sqlite' },
      context: { type: 'string' },
      conversations: { type: 'string' },
      retrieval: { type: 'string' },
      json: { type: 'string' },
      'conversation-context': { type: 'string' },
    },
  });
  const modes = values.mode?.split(',');
  if (modes?.some((mode) => !MODES.includes(mode))) throw new Error(`--mode must be one or more of ${MODES.join(', ')} (comma-separated)`);
  if (!['sqlite', 'memory'].includes(values.store)) throw new Error('--store must be sqlite or memory');
  const outcome = await run({
    full: true,
    ...(values.data ? { data: resolve(values.data) } : {}),
    ...(modes ? { modes } : {}),
    store: values.store,
    ...(values.context !== undefined ? { contextTurns: Number(values.context) } : {}),
    ...(values.conversations ? { conversations: values.conversations.split(',') } : {}),
    ...(values.retrieval ? { retrieval: JSON.parse(values.retrieval) } : {}),
    ...(values['conversation-context'] !== undefined
      ? { conversationContext: values['conversation-context'] === 'off' ? false : { turns: Number(values['conversation-context']) } }
      : {}),
    progress: (message) => process.stderr.write(`locomo: ${message}\n`),
  });
  process.stdout.write(outcome.markdown);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(outcome.results, null, 2)}\n`);
  if (outcome.results.skipped) process.exitCode = 1;
}
