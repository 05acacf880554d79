import { ValidationError } from './errors.js';

/** The five base types and their 21 subtypes. */
export const BUILT_IN_TYPES = {
  observation: ['code_edit', 'file_access', 'search', 'command', 'conversation'],
  decision: ['architecture', 'tool_choice', 'approach', 'configuration'],
  learning: ['insight', 'best_practice', 'anti_pattern', 'gotcha'],
  error: ['bug', 'failure', 'exception', 'timeout'],
  pattern: ['recurring_issue', 'code_smell', 'design_pattern', 'workflow'],
} as const satisfies Record<string, readonly string[]>;

/** Types older tools used; they resolve to `observation`. */
export const LEGACY_TYPES = ['task', 'note', 'standard'] as const;

export const DEFAULT_TYPE = 'observation';

export interface OntologyOptions {
  /** Extra base types and/or extra subtypes of existing ones: `{ experiment: ['ab_test'], error: ['flaky_test'] }`. */
  types?: Record<string, readonly string[]>;
  /** Reject unknown types with a ValidationError instead of storing them as observation with a warning. */
  strict?: boolean;
}

export interface ResolvedType {
  type: string;
  subtype: string | null;
  /** Set when the input was not recognised and fell back to observation. */
  warning?: string;
}

const namePattern = /^[a-z][a-z0-9_]*$/;

/** Base types, subtypes and how a caller's `type` string resolves. Extensions never remove built-ins. */
export class Ontology {
  readonly strict: boolean;
  private readonly subtypesByType = new Map<string, Set<string>>();
  private readonly baseOfSubtype = new Map<string, string>();

  constructor(options: OntologyOptions = {}) {
    this.strict = options.strict ?? false;
    const add = (type: string, subtypes: readonly string[]) => {
      const normalisedType = type.trim().toLowerCase();
      if (!namePattern.test(normalisedType)) {
        throw new ValidationError([
          { field: `ontology.types.${type}`, message: 'type names are lower-case letters, digits and underscores, starting with a letter' },
        ]);
      }
      let set = this.subtypesByType.get(normalisedType);
      if (!set) {
        if (this.baseOfSubtype.has(normalisedType)) {
          throw new ValidationError([
            {
              field: `ontology.types.${type}`,
              message: `"${normalisedType}" is already a subtype of ${this.baseOfSubtype.get(normalisedType)}`,
            },
          ]);
        }
        set = new Set();
        this.subtypesByType.set(normalisedType, set);
      }
      for (const subtype of subtypes) {
        const normalisedSubtype = subtype.trim().toLowerCase();
        if (!namePattern.test(normalisedSubtype)) {
          throw new ValidationError([
            { field: `ontology.types.${type}`, message: `subtype "${subtype}" must be lower-case letters, digits and underscores` },
          ]);
        }
        const existing = this.baseOfSubtype.get(normalisedSubtype);
        if ((existing && existing !== normalisedType) || this.subtypesByType.has(normalisedSubtype)) {
          throw new ValidationError([
            { field: `ontology.types.${type}`, message: `"${normalisedSubtype}" is already defined elsewhere in the ontology` },
          ]);
        }
        set.add(normalisedSubtype);
        this.baseOfSubtype.set(normalisedSubtype, normalisedType);
      }
    };
    for (const [type, subtypes] of Object.entries(BUILT_IN_TYPES)) add(type, subtypes);
    for (const [type, subtypes] of Object.entries(options.types ?? {})) add(type, subtypes);
  }

  /** Base type names. */
  get types(): string[] {
    return [...this.subtypesByType.keys()];
  }

  subtypesOf(type: string): string[] {
    return [...(this.subtypesByType.get(type) ?? [])];
  }

  isKnown(name: string): boolean {
    const normalised = name.trim().toLowerCase();
    return this.subtypesByType.has(normalised) || this.baseOfSubtype.has(normalised);
  }

  /**
   * Resolves a caller's type: a base type, a subtype (`'bug'` → error/bug), `'type/subtype'`,
   * a legacy type (→ observation), or unknown (→ observation with a warning, or an error when strict).
   */
  resolve(input: string | undefined, field = 'type'): ResolvedType {
    if (input === undefined) return { type: DEFAULT_TYPE, subtype: null };
    const normalised = input.trim().toLowerCase();
    if (this.subtypesByType.has(normalised)) return { type: normalised, subtype: null };
    const base = this.baseOfSubtype.get(normalised);
    if (base) return { type: base, subtype: normalised };
    const slash = normalised.indexOf('/');
    if (slash > 0) {
      const type = normalised.slice(0, slash);
      const subtype = normalised.slice(slash + 1);
      if (this.subtypesByType.get(type)?.has(subtype)) return { type, subtype };
    }
    if ((LEGACY_TYPES as readonly string[]).includes(normalised)) return { type: DEFAULT_TYPE, subtype: null };
    const message = `unknown type "${input}". Use one of ${this.types.join(', ')} or a subtype such as bug, insight, architecture; or register it with new Memory({ ontology: { types: { ... } } })`;
    if (this.strict) throw new ValidationError([{ field, message }]);
    return { type: DEFAULT_TYPE, subtype: null, warning: `${message}. Stored as observation.` };
  }

  /**
   * For filters: the base types and subtypes a list of names selects. A base type selects all
   * of its subtypes; a subtype selects only itself. Unknown names are a ValidationError.
   */
  resolveFilter(names: readonly string[], field = 'types'): { types?: string[]; subtypes?: string[] } {
    const types = new Set<string>();
    const subtypes = new Set<string>();
    for (const name of names) {
      const normalised = name.trim().toLowerCase();
      if (this.subtypesByType.has(normalised)) types.add(normalised);
      else if (this.baseOfSubtype.has(normalised)) subtypes.add(normalised);
      else if ((LEGACY_TYPES as readonly string[]).includes(normalised)) types.add(DEFAULT_TYPE);
      else throw new ValidationError([{ field, message: `unknown type "${name}". Known: ${this.types.join(', ')} and their subtypes` }]);
    }
    // A base type and one of its subtypes together: the base type already covers it.
    for (const subtype of subtypes) if (types.has(this.baseOfSubtype.get(subtype) ?? '')) subtypes.delete(subtype);
    return {
      ...(types.size > 0 ? { types: [...types] } : {}),
      ...(subtypes.size > 0 ? { subtypes: [...subtypes] } : {}),
    };
  }
}
