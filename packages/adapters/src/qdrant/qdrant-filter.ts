import type { Condition, ConditionValue, MemoryFilter } from '@engram/core';
import { pointId } from './qdrant-ids.js';
import { pathKey, typedKey } from './qdrant-payload.js';

/** The subset of Qdrant's filter language the translation produces (structurally typed). */
export type QdrantCondition =
  | { key: string; match: { value: string | number | boolean } | { any: string[] } }
  | { key: string; range: { gt?: number; gte?: number; lt?: number; lte?: number } }
  | { has_id: string[] }
  | QdrantFilter;

export interface QdrantFilter {
  must?: QdrantCondition[];
  should?: QdrantCondition[];
  must_not?: QdrantCondition[];
}

export interface QdrantFilterTranslation {
  /** The Qdrant filter (undefined: no condition at all). */
  filter: QdrantFilter | undefined;
  /**
   * True when `filter` selects exactly the points `matchesFilter` accepts. False when part of
   * the Engram filter has no Qdrant equivalent (substring `contains`, string ordering `gt`/`lt`,
   * keys Qdrant cannot address): `filter` is then a superset, and the caller checks each result
   * with `matchesFilter` on its payload and fetches more until it has k.
   */
  exact: boolean;
  /** True when nothing can match (an empty `types` list, an empty `ids` list…): skip the query. */
  matchesNothing: boolean;
}

const TRUE = { constant: true } as const;
const FALSE = { constant: false } as const;
type Term = QdrantCondition | typeof TRUE | typeof FALSE;
const isCondition = (term: Term): term is QdrantCondition => term !== TRUE && term !== FALSE;

function all(parts: Term[]): Term {
  if (parts.includes(FALSE)) return FALSE;
  const kept = parts.filter(isCondition);
  if (kept.length === 0) return TRUE;
  return kept.length === 1 ? (kept[0] as QdrantCondition) : { must: kept };
}

function some(parts: Term[]): Term {
  if (parts.includes(TRUE)) return TRUE;
  const kept = parts.filter(isCondition);
  if (kept.length === 0) return FALSE;
  return kept.length === 1 ? (kept[0] as QdrantCondition) : { should: kept };
}

function none(term: Term): Term {
  if (isCondition(term)) return { must_not: [term] };
  return term === TRUE ? FALSE : TRUE;
}

const match = (key: string, value: string | number | boolean): QdrantCondition => ({ key, match: { value } });

/**
 * Bounds of a condition in Qdrant terms: `upper` is implied by the condition (a superset),
 * `lower` implies it (a subset). They are the same term when the translation is exact. `not`
 * swaps them, which is what keeps `ne`, `nin` and `not` right when a part is approximate.
 */
interface Bounds {
  upper: Term;
  lower: Term;
  exact: boolean;
}

const exactly = (term: Term): Bounds => ({ upper: term, lower: term, exact: true });

/** The bounds of the negation: the complement of the subset is a superset, and vice versa. */
const negate = (bounds: Bounds): Bounds => ({ upper: none(bounds.lower), lower: none(bounds.upper), exact: bounds.exact });

/** Translates a `MemoryFilter` for the payload layout of `toPayload` (see `QdrantFilterTranslation`). */
export function toQdrantFilter(filter: MemoryFilter | undefined): QdrantFilterTranslation {
  const parts: Term[] = [];
  let exact = true;
  const asOf = filter?.asOf?.getTime();
  if (!filter?.includeSuperseded) {
    // As of an instant, a supersession that happened later (validTo after it) is undone.
    const live = match('superseded', false);
    parts.push(asOf === undefined ? live : some([live, { key: 'valid_to', range: { gt: asOf } }]));
  }
  if (filter) {
    if (asOf !== undefined) parts.push({ key: 'created_at', range: { lte: asOf } });
    if (filter.scope?.userId !== undefined) parts.push(match('user_id', filter.scope.userId));
    if (filter.scope?.agentId !== undefined) parts.push(match('agent_id', filter.scope.agentId));
    if (filter.scope?.runId !== undefined) parts.push(match('run_id', filter.scope.runId));
    if (filter.conversationId !== undefined) parts.push(match('conversation_id', filter.conversationId));
    if (filter.types || filter.subtypes) {
      const kinds: Term[] = [];
      if (filter.types && filter.types.length > 0) kinds.push({ key: 'type', match: { any: [...filter.types] } });
      if (filter.subtypes && filter.subtypes.length > 0) kinds.push({ key: 'subtype', match: { any: [...filter.subtypes] } });
      parts.push(some(kinds));
    }
    if (filter.tags?.any && filter.tags.any.length > 0) parts.push({ key: 'tags', match: { any: [...filter.tags.any] } });
    if (filter.tags?.all) parts.push(all(filter.tags.all.map((tag) => match('tags', tag))));
    if (filter.after || filter.before) {
      parts.push({
        key: 'created_at',
        range: { ...(filter.after ? { gte: filter.after.getTime() } : {}), ...(filter.before ? { lt: filter.before.getTime() } : {}) },
      });
    }
    if (filter.ids) parts.push(filter.ids.length > 0 ? { has_id: filter.ids.map(pointId) } : FALSE);
    if (filter.where) {
      const bounds = condition(filter.where);
      parts.push(bounds.upper);
      exact = bounds.exact;
    }
  }
  const term = all(parts);
  if (!isCondition(term))
    return term === FALSE ? { filter: undefined, exact: true, matchesNothing: true } : { filter: undefined, exact, matchesNothing: false };
  const filterTerm: QdrantFilter = 'must' in term || 'should' in term || 'must_not' in term ? (term as QdrantFilter) : { must: [term] };
  return { filter: filterTerm, exact, matchesNothing: false };
}

function condition(node: Condition): Bounds {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const children = node.conditions.map(condition);
      const combine = node.kind === 'and' ? all : some;
      return {
        upper: combine(children.map((child) => child.upper)),
        lower: combine(children.map((child) => child.lower)),
        exact: children.every((child) => child.exact),
      };
    }
    case 'not':
      return negate(condition(node.condition));
    case 'compare':
      return comparison(node);
  }
}

type Comparison = Extract<Condition, { kind: 'compare' }>;

function comparison(node: Comparison): Bounds {
  const path = node.path;
  const present = match('meta_keys', pathKey(path));
  // What is known when Qdrant cannot decide: the field must at least exist.
  const approximate: Bounds = { upper: present, lower: FALSE, exact: false };
  switch (node.operator) {
    case 'exists':
      return exactly(node.value ? present : none(present));
    case 'eq':
      return equals(path, node.value) ?? approximate;
    case 'ne':
      return negate(equals(path, node.value) ?? approximate);
    case 'in':
    case 'nin': {
      const options = node.value.map((value) => equals(path, value) ?? approximate);
      const inList: Bounds = {
        upper: some(options.map((option) => option.upper)),
        lower: some(options.map((option) => option.lower)),
        exact: options.every((option) => option.exact),
      };
      return node.operator === 'in' ? inList : negate(inList);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof node.value === 'number') {
        const key = typedKey('meta_number', path);
        const range = { gt: { gt: node.value }, gte: { gte: node.value }, lt: { lt: node.value }, lte: { lte: node.value } }[node.operator];
        return key ? exactly({ key, range }) : approximate;
      }
      // Qdrant ranges are numeric; string order (ISO dates) is checked after the search.
      return typeof node.value === 'string' ? approximate : exactly(FALSE);
    }
    case 'contains':
      return contains(path, node.value, approximate);
  }
}

/** Equality with a JSON scalar of the same type; null when Qdrant cannot address the path. */
function equals(path: string[], value: ConditionValue): Bounds | null {
  if (value === null) return exactly(match('meta_null', pathKey(path)));
  if (typeof value === 'number') {
    const key = typedKey('meta_number', path);
    return key ? exactly({ key, range: { gte: value, lte: value } }) : null;
  }
  const key = typedKey(typeof value === 'string' ? 'meta_string' : 'meta_boolean', path);
  return key ? exactly(match(key, value)) : null;
}

/** An array holding the value (exact), or a string holding it as a substring (checked afterwards). */
function contains(path: string[], value: ConditionValue, approximate: Bounds): Bounds {
  let element: Term | null;
  if (value === null) element = match('meta_array_null', pathKey(path));
  else {
    const key = typedKey('meta_array', path);
    element = key === null ? null : typeof value === 'number' ? { key, range: { gte: value, lte: value } } : match(key, value);
  }
  if (element === null) return approximate;
  // A string needle may also be a substring of a string field, which Qdrant cannot test.
  return typeof value === 'string' ? { upper: approximate.upper, lower: element, exact: false } : exactly(element);
}
