import type { Condition, MemoryFilter, Scope } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';
import type { Ontology } from '../model/ontology.js';
import { compactScope } from '../model/scope.js';
import { normaliseTags } from '../text/text.js';
import { parseTimeWindow } from './time-window.js';
import { parseWhere } from './where.js';

/** The filter fields of list, count, search and context options, once validated. */
export interface FilterInput {
  scope?: Scope | undefined;
  conversationId?: string | undefined;
  types?: string[] | undefined;
  tags?: string[] | { any?: string[] | undefined; all?: string[] | undefined } | undefined;
  after?: Date | undefined;
  before?: Date | undefined;
  time?: string | undefined;
  where?: unknown;
  includeSuperseded?: boolean | undefined;
  asOf?: Date | undefined;
}

/**
 * Turns validated caller filters into the store's normalised `MemoryFilter`: types resolved by the
 * ontology, tags normalised, a natural time window intersected with `after`/`before`, `where` parsed.
 */
export function buildFilter(
  options: FilterInput,
  context: { ontology: Ontology; now: () => number; sealedMetadataFields?: ReadonlySet<string> | undefined },
): MemoryFilter {
  const filter: MemoryFilter = {};
  const scope = compactScope(options.scope);
  if (Object.keys(scope).length > 0) filter.scope = scope;
  if (options.conversationId !== undefined) filter.conversationId = options.conversationId;
  if (options.types !== undefined && options.types.length > 0)
    Object.assign(filter, context.ontology.resolveFilter(options.types, 'options.types'));
  if (options.tags !== undefined) {
    const any = normaliseTags(Array.isArray(options.tags) ? options.tags : (options.tags.any ?? []));
    const all = Array.isArray(options.tags) ? [] : normaliseTags(options.tags.all ?? []);
    if (any.length > 0 || all.length > 0) filter.tags = { ...(any.length > 0 ? { any } : {}), ...(all.length > 0 ? { all } : {}) };
  }
  let after = options.after;
  let before = options.before;
  if (options.time !== undefined) {
    const window = parseTimeWindow(options.time, { now: new Date(context.now()) });
    if (window.after && (!after || window.after > after)) after = window.after;
    if (window.before && (!before || window.before < before)) before = window.before;
  }
  if (after && before && after >= before) {
    throw new ValidationError([
      {
        field: 'options.after',
        message: `(${after.toISOString()}) is not before options.before (${before.toISOString()}): the window is empty`,
      },
    ]);
  }
  if (after) filter.after = after;
  if (before) filter.before = before;
  if (options.where !== undefined) {
    filter.where = parseWhere(options.where, 'options.where');
    if (context.sealedMetadataFields) refuseSealedFields(filter.where, context.sealedMetadataFields);
  }
  if (options.includeSuperseded) filter.includeSuperseded = true;
  if (options.asOf) filter.asOf = options.asOf;
  return filter;
}

/**
 * Sensitive memories store these metadata fields as ciphertext (`encryption.encryptMetadata`): a
 * condition on one could never match them, so it is refused rather than silently incomplete.
 */
function refuseSealedFields(condition: Condition, fields: ReadonlySet<string>): void {
  if (condition.kind === 'and' || condition.kind === 'or') {
    for (const inner of condition.conditions) refuseSealedFields(inner, fields);
  } else if (condition.kind === 'not') {
    refuseSealedFields(condition.condition, fields);
  } else if (fields.has(condition.path[0] as string)) {
    throw new ValidationError([
      {
        field: `options.where.${condition.path.join('.')}`,
        message: `cannot be filtered on: sensitive memories store metadata field "${condition.path[0]}" encrypted (encryption.encryptMetadata). Filter on tags, type or scope, or on a field that is not encrypted`,
      },
    ]);
  }
}
