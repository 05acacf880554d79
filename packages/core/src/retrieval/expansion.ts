import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryFilter } from '../contracts/model.js';
import { matchesFilter } from '../filter/filter.js';
import type { RelationTypes } from '../graph/relation-types.js';
import { expand } from '../graph/traversal.js';
import type { SearchHit } from './searcher.js';

export interface ExpansionOptions {
  depth?: number | undefined;
  types?: string[] | undefined;
  seeds?: number | undefined;
  decay?: number | undefined;
}

/**
 * Adds graph neighbours of the strongest hits, scored seed × decay^distance × edge weight; keeps
 * the filter. Sorts `hits` in place, best first.
 */
export async function expandHits(
  store: MemoryStore,
  relationTypes: RelationTypes,
  hits: SearchHit[],
  filter: MemoryFilter,
  options: ExpansionOptions,
  explain: boolean,
  minScore: number | undefined,
): Promise<void> {
  const types = options.types?.map((type, index) => relationTypes.check(type, `options.expand.types.${index}`));
  const decay = options.decay ?? 0.5;
  const present = new Set(hits.map((hit) => hit.memory.id));
  const added: SearchHit[] = [];
  for (const seed of hits.slice(0, options.seeds ?? 3)) {
    const reached = await expand(store, relationTypes, [seed.memory.id], {
      direction: 'both',
      ...(types ? { types } : {}),
      depth: options.depth ?? 1,
      includeSuperseded: filter.includeSuperseded ?? false,
      maxNodes: 100,
    });
    for (const { memory, distance, via } of reached) {
      if (present.has(memory.id) || !matchesFilter(memory, filter)) continue;
      const factor = decay ** distance * via.weight;
      const score = seed.score * factor;
      if (minScore !== undefined && score < minScore) continue;
      present.add(memory.id);
      const hit: SearchHit = { memory, score };
      if (explain) {
        hit.explanation = {
          relevance: 0,
          recency: { ageDays: 0, value: 0, contribution: 0 },
          importance: { value: memory.importance, contribution: 0 },
          expansion: { seedId: seed.memory.id, seedScore: seed.score, via, distance, factor },
          score,
        };
      }
      added.push(hit);
    }
  }
  hits.push(...added);
  hits.sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? 1 : -1));
}
