import type {
  MemoryStore,
  RecordPatch,
  StoreOperation,
  StoreOperationResult,
  StoreWrite,
  StoreWriteResult,
} from '../contracts/memory-store.js';
import type { Relation } from '../contracts/model.js';
import { NotFoundError, ValidationError } from '../model/errors.js';

const KINDS = new Set<StoreOperation['kind']>(['write', 'update', 'delete', 'upsertRelation', 'removeRelations', 'setMeta']);

/**
 * Checks the shape of a `MemoryStore.apply` batch before a store opens its transaction, so a
 * malformed batch fails with the operation named and nothing written.
 */
export function checkOperations(operations: StoreOperation[]): void {
  if (!Array.isArray(operations)) throw new ValidationError([{ field: 'operations', message: 'must be an array of store operations' }]);
  operations.forEach((operation, index) => {
    if (!operation || !KINDS.has(operation.kind)) {
      throw new ValidationError([
        {
          field: `operations.${index}.kind`,
          message: `must be one of ${[...KINDS].join(', ')} (got ${String((operation as { kind?: unknown } | null)?.kind)})`,
        },
      ]);
    }
    if (
      operation.kind === 'setMeta' &&
      (typeof operation.name !== 'string' || operation.name === '' || typeof operation.value !== 'string')
    ) {
      throw new ValidationError([
        { field: `operations.${index}`, message: 'a setMeta operation needs a non-empty name and a string value' },
      ]);
    }
  });
}

/** Every vector of a batch with where it comes from, for the store's dimension check. */
export function operationVectors(operations: StoreOperation[]): Array<{ vector: Float32Array; field: string }> {
  const vectors: Array<{ vector: Float32Array; field: string }> = [];
  for (const operation of operations) {
    if (operation.kind === 'write') {
      for (const item of operation.items) if (item.vector) vectors.push({ vector: item.vector, field: `vector of ${item.record.id}` });
    } else if (operation.kind === 'update' && operation.vector) {
      vectors.push({ vector: operation.vector, field: `vector of ${operation.id}` });
    }
  }
  return vectors;
}

/**
 * The ids of a batch as its earlier writes resolved them: a write item that turned out to be a
 * duplicate, or the update of an existing keyed record, stands for that record in later operations.
 */
export class OperationIds {
  private readonly resolved = new Map<string, string>();

  noteWrites(items: StoreWrite[], results: StoreWriteResult[]): void {
    items.forEach((item, index) => {
      const stored = results[index]?.record.id;
      if (stored !== undefined && stored !== item.record.id) this.resolved.set(item.record.id, stored);
    });
  }

  id(id: string): string {
    return this.resolved.get(id) ?? id;
  }

  /** A patch whose `supersededBy` names a record of an earlier write reads as that record. */
  patch(patch: RecordPatch): RecordPatch {
    if (typeof patch.supersededBy !== 'string') return patch;
    const supersededBy = this.id(patch.supersededBy);
    return supersededBy === patch.supersededBy ? patch : { ...patch, supersededBy };
  }

  relation(relation: Relation): Relation {
    const sourceId = this.id(relation.sourceId);
    const targetId = this.id(relation.targetId);
    return sourceId === relation.sourceId && targetId === relation.targetId ? relation : { ...relation, sourceId, targetId };
  }
}

/** The error a `required` update or delete raises (inside the transaction, so it rolls back). */
export function missingRecord(id: string): NotFoundError {
  return new NotFoundError('Memory', id);
}

/**
 * `store.apply(operations)` when the store has it (one transaction); otherwise the same operations
 * one store call at a time, with the same id resolution and `required` checks — not atomic: a
 * failure half-way leaves the operations before it applied.
 */
export async function applyOperations(store: MemoryStore, operations: StoreOperation[]): Promise<StoreOperationResult[]> {
  checkOperations(operations);
  if (operations.length === 0) return [];
  if (store.apply) return store.apply(operations);
  const resolved = new OperationIds();
  const results: StoreOperationResult[] = [];
  for (const operation of operations) {
    switch (operation.kind) {
      case 'write': {
        const written = operation.items.length > 0 ? await store.write(operation.items) : [];
        resolved.noteWrites(operation.items, written);
        results.push({ kind: 'write', results: written });
        break;
      }
      case 'update': {
        const id = resolved.id(operation.id);
        const record = await store.update(id, resolved.patch(operation.patch), operation.vector, {
          ...(operation.reason !== undefined ? { reason: operation.reason } : {}),
        });
        if (!record && operation.required) throw missingRecord(id);
        results.push({ kind: 'update', record });
        break;
      }
      case 'delete': {
        const id = resolved.id(operation.id);
        const deleted = await store.delete(id, operation.at);
        if (!deleted && operation.required) throw missingRecord(id);
        results.push({ kind: 'delete', deleted });
        break;
      }
      case 'upsertRelation':
        results.push({ kind: 'upsertRelation', ...(await store.upsertRelation(resolved.relation(operation.relation))) });
        break;
      case 'removeRelations':
        results.push({
          kind: 'removeRelations',
          removed: await store.removeRelations(resolved.id(operation.sourceId), resolved.id(operation.targetId), operation.type),
        });
        break;
    }
  }
  return results;
}
