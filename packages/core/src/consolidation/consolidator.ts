import { createHash } from 'node:crypto';
import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryFilter, MemoryRecord, Scope } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { Embedding } from '../embedding/embedding.js';
import type { EventHub } from '../events/event-hub.js';
import { scopeKey } from '../filter/filter.js';
import type { Graph } from '../graph/graph.js';
import type { LinkSuggester } from '../graph/link-suggestions.js';
import { NotFoundError, ValidationError } from '../model/errors.js';
import { type AddInput, validate } from '../model/schema.js';
import { compactScope } from '../model/scope.js';
import type { AddResult } from '../write/writer.js';
import { extractiveSummary, NearDuplicateClusterer } from './compression.js';
import {
  CONSOLIDATION_STEPS,
  type ConsolidateOptions,
  type ConsolidationStep,
  consolidateInputSchema,
  DEFAULT_STEPS,
  type ResolvedConsolidationOptions,
} from './consolidation-options.js';
import { forgettingVerdict, type Protection, protectionOf } from './forgetting.js';
import { ageInDays, decayScore } from './relevance.js';
import type { CompressedCluster, ConsolidationReport, ForgottenMemory, SuggestedAssociation } from './report.js';

const PAGE_SIZE = 500;
const EMBED_BATCH = 256;
const BANDS = [0.05, 0.1, 0.25, 0.5, 1] as const;

export interface ConsolidatorContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use. */
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  events: EventHub;
  graph: Graph;
  linkSuggester: LinkSuggester;
  /** Writes pattern memories through the ordinary write path (validation, embedding, events). */
  addMany: (inputs: AddInput[]) => Promise<AddResult[]>;
  options: ResolvedConsolidationOptions;
  now: () => number;
}

/**
 * `consolidate()`: one streamed pass over the memories in scope (pages of PAGE_SIZE, newest
 * first) scores each (relevance), decides what to forget (forgetting) and feeds the near-duplicate
 * clusterer (compression); then clusters become patterns and, when asked, link suggestions are
 * gathered (associations). A dry run (the default) writes nothing at all.
 */
export class Consolidator {
  constructor(private readonly context: ConsolidatorContext) {}

  async consolidate(input: ConsolidateOptions = {}): Promise<ConsolidationReport> {
    const started = performance.now();
    const parsed = validate(consolidateInputSchema, input ?? {}, 'options');
    const { store, events, options } = this.context;
    const dryRun = parsed.dryRun ?? true;
    const requested = new Set<ConsolidationStep>(parsed.steps ?? DEFAULT_STEPS);
    const steps = CONSOLIDATION_STEPS.filter((step) => requested.has(step));
    const has = (step: ConsolidationStep) => requested.has(step);
    const now = (parsed.now ?? new Date(this.context.now())).getTime();
    const scope = compactScope(parsed.scope);
    const archive = options.archive;
    if (!dryRun && !archive && (has('forgetting') || (has('compression') && options.compression.archiveSources))) {
      throw new ValidationError([
        {
          field: 'consolidation.archive',
          message:
            'forgetting archives every memory before it deletes it: give the Memory an archive (consolidation: { archive: jsonlArchive({ path }) } from engram, or memoryArchive()), or leave the forgetting step out',
        },
      ]);
    }
    const vectorIndex = await this.context.open();
    const filter: MemoryFilter = { scope };
    const total = await store.count(filter);
    const progress = (step: ConsolidationStep | 'scan', done: number, of: number) => parsed.onProgress?.({ step, done, total: of });
    events.emit('consolidation:started', { dryRun, steps, scope, total });

    const report: ConsolidationReport = { dryRun, now: new Date(now), scope, steps, scanned: 0, durationMs: 0 };
    const relevance = { scored: 0, stored: 0, sum: 0, bands: BANDS.map(() => 0), lowest: [] as Array<{ id: string; score: number }> };
    const forgotten: ForgottenMemory[] = [];
    const protectedCounts: Record<Protection, number> = { linked: 0, important: 0, keyed: 0, 'keep-tag': 0 };
    const unlinked: string[] = [];
    const clusterer = has('compression')
      ? new NearDuplicateClusterer(this.context.embedding.embedder.dimensions, options.compression)
      : undefined;
    const writesScores = !dryRun && has('relevance') && typeof store.recordDecayScores === 'function';
    if (!dryRun && has('relevance') && !writesScores) {
      events.warnOnce(
        'no-decay-scores',
        `The ${store.name} store does not keep decay scores: consolidation reports them but search cannot use them.`,
      );
    }

    let cursor: string | undefined;
    do {
      const page = await store.list(filter, { limit: PAGE_SIZE, ...(cursor !== undefined ? { cursor } : {}) });
      cursor = page.nextCursor ?? undefined;
      const records = page.items;
      if (records.length === 0) break;
      const connections = await this.connectionCounts(records.map((record) => record.id));
      const scores: Array<{ id: string; score: number }> = [];
      const toForget: MemoryRecord[] = [];
      const kept: MemoryRecord[] = [];
      for (const record of records) {
        const links = connections.get(record.id) ?? 0;
        const score = decayScore(record, now, links, options);
        scores.push({ id: record.id, score });
        if (has('relevance')) this.tally(relevance, record.id, score);
        if (has('forgetting')) {
          const verdict = forgettingVerdict(record, score, links, now, options.forgetting);
          if (verdict.forget) {
            toForget.push(record);
            forgotten.push({
              id: record.id,
              type: record.subtype ? `${record.type}/${record.subtype}` : record.type,
              preview: record.content.slice(0, 80),
              score,
              ageDays: Math.floor(ageInDays(record, now)),
              reason: verdict.reason,
            });
            continue;
          }
          if (verdict.protection && score < options.forgetting.threshold && ageInDays(record, now) >= options.forgetting.minAgeDays) {
            protectedCounts[verdict.protection]++;
          }
        }
        kept.push(record);
        if (has('associations') && links === 0 && unlinked.length < options.associations.limit) unlinked.push(record.id);
      }
      if (writesScores) {
        await store.recordDecayScores?.(scores, new Date(now));
        relevance.stored += scores.length;
      }
      if (!dryRun && toForget.length > 0) await this.archiveAndDelete(toForget, 'forgotten', vectorIndex);
      if (clusterer) await this.feed(clusterer, kept);
      report.scanned += records.length;
      progress('scan', report.scanned, total);
    } while (cursor !== undefined);

    if (has('relevance')) {
      report.relevance = {
        scored: relevance.scored,
        stored: relevance.stored,
        mean: relevance.scored > 0 ? relevance.sum / relevance.scored : 0,
        bands: BANDS.map((to, index) => ({
          from: index === 0 ? 0 : (BANDS[index - 1] as number),
          to,
          count: relevance.bands[index] as number,
        })),
        lowest: relevance.lowest,
      };
      events.emit('consolidation:step', { step: 'relevance', dryRun, count: relevance.scored });
    }
    if (has('forgetting')) {
      report.forgetting = {
        forgotten,
        protected: protectedCounts,
        archive: dryRun || forgotten.length === 0 ? null : (archive?.location ?? null),
      };
      events.emit('consolidation:step', { step: 'forgetting', dryRun, count: forgotten.length });
    }
    if (clusterer) {
      const clusters = await this.compress(clusterer, dryRun, vectorIndex, (done, of) => progress('compression', done, of));
      report.compression = { clusters, comparisons: clusterer.comparisons };
      events.emit('consolidation:step', { step: 'compression', dryRun, count: clusters.length });
    }
    if (has('associations')) {
      report.associations = await this.associate(unlinked, dryRun, (done, of) => progress('associations', done, of));
      events.emit('consolidation:step', { step: 'associations', dryRun, count: report.associations.suggestions.length });
    }
    report.durationMs = performance.now() - started;
    events.emit('consolidation:finished', { report });
    return report;
  }

  private tally(
    relevance: { scored: number; sum: number; bands: number[]; lowest: Array<{ id: string; score: number }> },
    id: string,
    score: number,
  ): void {
    relevance.scored++;
    relevance.sum += score;
    const found = BANDS.findIndex((to) => score < to);
    const band = found === -1 ? BANDS.length - 1 : found;
    relevance.bands[band] = (relevance.bands[band] ?? 0) + 1;
    const lowest = relevance.lowest;
    if (lowest.length < 10 || score < (lowest[lowest.length - 1] as { score: number }).score) {
      lowest.push({ id, score });
      lowest.sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1));
      if (lowest.length > 10) lowest.pop();
    }
  }

  /** Edges touching each id (either end, any type, whatever the other end's state). */
  private async connectionCounts(ids: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const wanted = new Set(ids);
    for (const relation of await this.context.store.relationsOf(ids, { direction: 'both' })) {
      if (wanted.has(relation.sourceId)) counts.set(relation.sourceId, (counts.get(relation.sourceId) ?? 0) + 1);
      if (wanted.has(relation.targetId)) counts.set(relation.targetId, (counts.get(relation.targetId) ?? 0) + 1);
    }
    return counts;
  }

  /** Archives the records (durably, first), then soft-deletes each one. */
  private async archiveAndDelete(records: MemoryRecord[], reason: 'forgotten' | 'compressed', vectorIndex: VectorIndex | undefined) {
    const { store, events, options } = this.context;
    await options.archive?.append(records, reason);
    const at = new Date(this.context.now());
    const deleted: string[] = [];
    for (const record of records) {
      if (await store.delete(record.id, at)) {
        deleted.push(record.id);
        events.emit('memory:deleted', { id: record.id, memory: record });
      }
    }
    if (vectorIndex && vectorIndex !== store.vectors && deleted.length > 0) await vectorIndex.delete(deleted);
  }

  private async feed(clusterer: NearDuplicateClusterer, records: MemoryRecord[]): Promise<void> {
    const candidates = records.filter((record) => record.type !== 'pattern');
    for (let start = 0; start < candidates.length; start += EMBED_BATCH) {
      const batch = candidates.slice(start, start + EMBED_BATCH);
      const vectors = await this.context.embedding.embedMany(batch.map((record) => record.content));
      batch.forEach((record, index) => {
        clusterer.add({
          id: record.id,
          createdAt: record.createdAt.getTime(),
          group: `${scopeKey(record.scope)}\u0000${record.type}`,
          tags: record.tags,
          vector: vectors[index] as Float32Array,
        });
      });
    }
  }

  private async compress(
    clusterer: NearDuplicateClusterer,
    dryRun: boolean,
    vectorIndex: VectorIndex | undefined,
    progress: (done: number, of: number) => void,
  ): Promise<CompressedCluster[]> {
    const { store, options } = this.context;
    const { minClusterSize, similarity, taggedSimilarity, windowDays, archiveSources } = options.compression;
    const found = clusterer.clusters(minClusterSize);
    const result: CompressedCluster[] = [];
    for (const [index, ids] of found.entries()) {
      progress(index, found.length);
      const members = await this.unsummarised(await store.get(ids));
      if (members.length < minClusterSize) continue;
      members.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
      const first = members[0] as MemoryRecord;
      const written = await this.summarise(members);
      const cluster: CompressedCluster = {
        ids: members.map((member) => member.id).sort(),
        type: first.type,
        summary: written.summary,
        summarySource: written.source,
        reason: `${members.length} ${first.type} memories within ${windowDays} days, cosine ≥ ${similarity} (≥ ${taggedSimilarity} sharing a tag)`,
      };
      if (!dryRun) await this.writePattern(cluster, members, archiveSources, vectorIndex);
      result.push(cluster);
    }
    progress(found.length, found.length);
    return result;
  }

  /** Leaves out members that already support a pattern written by consolidation. */
  private async unsummarised(members: MemoryRecord[]): Promise<MemoryRecord[]> {
    const { store } = this.context;
    if (members.length === 0) return members;
    const edges = await store.relationsOf(
      members.map((member) => member.id),
      { direction: 'out', types: ['supports'] },
    );
    if (edges.length === 0) return members;
    const patterns = new Set(
      (await store.get([...new Set(edges.map((edge) => edge.targetId))]))
        .filter((target) => target.type === 'pattern' && target.metadata.consolidation !== undefined)
        .map((target) => target.id),
    );
    const summarised = new Set(edges.filter((edge) => patterns.has(edge.targetId)).map((edge) => edge.sourceId));
    return members.filter((member) => !summarised.has(member.id));
  }

  private async summarise(members: MemoryRecord[]): Promise<{ summary: string; source: 'extractive' | 'model' }> {
    const { model } = this.context.options;
    if (model) {
      try {
        const answer = await model.complete({
          system:
            'You consolidate an AI agent memory. Summarise the related memories below into one or two sentences stating the recurring pattern. Answer with the summary only.',
          messages: [{ role: 'user', content: members.map((member) => `- ${member.content.slice(0, 2000)}`).join('\n') }],
          maxOutputTokens: 200,
        });
        const summary = (typeof answer === 'string' ? answer : answer.text).trim();
        if (summary.length > 0) return { summary, source: 'model' };
        this.context.events.warn('consolidation: the language model returned an empty summary; using an extractive one');
      } catch (error) {
        this.context.events.warn(`consolidation: the language model failed (${(error as Error).message}); using an extractive summary`);
      }
    }
    return { summary: extractiveSummary(members), source: 'extractive' };
  }

  private async writePattern(
    cluster: CompressedCluster,
    members: MemoryRecord[],
    archiveSources: boolean,
    vectorIndex: VectorIndex | undefined,
  ): Promise<void> {
    const first = members[0] as MemoryRecord;
    const common = first.tags.filter((tag) => members.every((member) => member.tags.includes(tag)));
    const [added] = await this.context.addMany([
      {
        content: cluster.summary,
        type: first.type === 'error' ? 'recurring_issue' : 'pattern',
        tags: [...new Set([...common, 'consolidated'])],
        scope: compactScope(first.scope as Scope),
        importance: Math.max(...members.map((member) => member.importance)),
        key: `consolidation:${createHash('sha256').update(cluster.ids.join(',')).digest('hex').slice(0, 32)}`,
        metadata: { consolidation: { sources: cluster.ids, summary: cluster.summarySource } },
      },
    ]);
    const pattern = (added as AddResult).memory;
    cluster.patternId = pattern.id;
    const archived: MemoryRecord[] = [];
    const linked: MemoryRecord[] = [];
    if (archiveSources) {
      const connections = await this.connectionCounts(members.map((member) => member.id));
      for (const member of members) {
        if (protectionOf(member, connections.get(member.id) ?? 0, this.context.options.forgetting)) linked.push(member);
        else archived.push(member);
      }
    } else linked.push(...members);
    if (archived.length > 0) {
      await this.archiveAndDelete(archived, 'compressed', vectorIndex);
      cluster.archivedIds = archived.map((member) => member.id).sort();
    }
    for (const member of linked) {
      await this.context.graph.link(member.id, pattern.id, 'supports', { metadata: { consolidation: true } }, true);
    }
  }

  private async associate(
    ids: string[],
    dryRun: boolean,
    progress: (done: number, of: number) => void,
  ): Promise<NonNullable<ConsolidationReport['associations']>> {
    const { confidence } = this.context.options.associations;
    const seen = new Set<string>();
    const suggestions: SuggestedAssociation[] = [];
    let written = 0;
    for (const [index, id] of ids.entries()) {
      progress(index, ids.length);
      // A memory compression archived since the scan is gone: nothing to suggest for it.
      const found = await this.context.linkSuggester.suggest(id, { limit: 5 }).catch((error: unknown) => {
        if (error instanceof NotFoundError) return [];
        throw error;
      });
      for (const suggestion of found) {
        if (suggestion.confidence < confidence) continue;
        const pair = [suggestion.sourceId, suggestion.targetId].sort().join('|');
        if (seen.has(pair)) continue;
        seen.add(pair);
        const entry: SuggestedAssociation = { ...suggestion, reasons: [...suggestion.reasons] };
        if (!dryRun) {
          entry.relation = await this.context.graph.link(
            suggestion.sourceId,
            suggestion.targetId,
            suggestion.type,
            { confidence: suggestion.confidence },
            true,
          );
          written++;
        }
        suggestions.push(entry);
      }
    }
    progress(ids.length, ids.length);
    return { examined: ids.length, suggestions, written };
  }
}
