import type { Relation } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';
import { describeValue } from '../model/input-guards.js';

/** The built-in relationship types. Symmetric ones are found from either end and stored once. */
export const BUILT_IN_RELATION_TYPES = {
  related: { symmetric: true },
  contradicts: { symmetric: true },
  causes: { symmetric: false },
  fixes: { symmetric: false },
  supports: { symmetric: false },
  follows: { symmetric: false },
} as const satisfies Record<string, { symmetric: boolean }>;

export interface RelationTypeOptions {
  /** Extra relationship types: `{ blocks: { symmetric: false }, duplicates: { symmetric: true } }`. */
  types?: Record<string, { symmetric: boolean }>;
}

export type Direction = 'out' | 'in' | 'both';

const namePattern = /^[a-z][a-z0-9_]*$/;

/** Known relationship types and their symmetry. Extensions never remove or redefine built-ins. */
export class RelationTypes {
  private readonly symmetric = new Map<string, boolean>();

  constructor(options: RelationTypeOptions = {}) {
    for (const [name, definition] of Object.entries(BUILT_IN_RELATION_TYPES)) this.symmetric.set(name, definition.symmetric);
    for (const [name, definition] of Object.entries(options.types ?? {})) {
      if (!namePattern.test(name)) {
        throw new ValidationError([
          { field: `relations.types.${name}`, message: 'relationship type names are lower-case letters, digits and underscores' },
        ]);
      }
      if (this.symmetric.has(name) && this.symmetric.get(name) !== definition.symmetric) {
        throw new ValidationError([{ field: `relations.types.${name}`, message: 'is a built-in type; its symmetry cannot change' }]);
      }
      this.symmetric.set(name, Boolean(definition.symmetric));
    }
  }

  get names(): string[] {
    return [...this.symmetric.keys()];
  }

  isSymmetric(type: string): boolean {
    return this.symmetric.get(type) ?? false;
  }

  /** Validates a type name (ValidationError naming `field` if unknown). */
  check(type: unknown, field = 'type'): string {
    if (typeof type !== 'string' || !this.symmetric.has(type)) {
      throw new ValidationError([
        {
          field,
          message: `unknown relationship type ${describeValue(type)}. Use one of ${this.names.join(', ')}, or register it with new Memory({ relations: { types: { ... } } })`,
        },
      ]);
    }
    return type;
  }

  /** Symmetric edges are stored once, with the smaller id as the source. */
  orient(sourceId: string, targetId: string, type: string): [string, string] {
    return this.isSymmetric(type) && targetId < sourceId ? [targetId, sourceId] : [sourceId, targetId];
  }

  /** The memory at the other end of `relation` when walking from `from` in `direction`, or undefined if the edge cannot be walked that way. */
  step(relation: Relation, from: string, direction: Direction): string | undefined {
    const symmetric = this.isSymmetric(relation.type);
    if (relation.sourceId === from && (direction !== 'in' || symmetric)) return relation.targetId;
    if (relation.targetId === from && (direction !== 'out' || symmetric)) return relation.sourceId;
    return undefined;
  }
}
