import type { ConsolidationStep } from '../consolidation/consolidation-options.js';
import type { ConsolidationReport } from '../consolidation/report.js';
import type { WriteStatus } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation, Scope } from '../contracts/model.js';

/** Every event core emits, with its payload. Only core emits; adapters never do. */
export interface MemoryEvents {
  'memory:added': (event: { memory: MemoryRecord; status: Exclude<WriteStatus, 'duplicate'> }) => void;
  'memory:updated': (event: { memory: MemoryRecord; previous: MemoryRecord }) => void;
  'memory:deleted': (event: { id: string; memory: MemoryRecord }) => void;
  /** Erasure: these memories and everything derived from them are gone (ids only: the content is not kept anywhere). */
  'memory:forgotten': (event: { ids: string[]; reason: 'forget' | 'retention' }) => void;
  'memory:superseded': (event: { winner: MemoryRecord; loser: MemoryRecord; reason: string | null }) => void;
  'relation:added': (event: { relation: Relation; created: boolean }) => void;
  'relation:removed': (event: { relation: Relation }) => void;
  search: (event: { query: string; mode: 'hybrid' | 'vector' | 'lexical'; hits: number; durationMs: number }) => void;
  'consolidation:started': (event: { dryRun: boolean; steps: ConsolidationStep[]; scope: Scope; total: number }) => void;
  /** A step finished; `count` is what it scored, forgot, compressed (clusters) or suggested. */
  'consolidation:step': (event: { step: ConsolidationStep; dryRun: boolean; count: number }) => void;
  'consolidation:finished': (event: { report: ConsolidationReport }) => void;
  warning: (event: { message: string }) => void;
  /** After `add(messages, { infer: true })` returned (also a dry run, and a run that fell back to storing the messages raw). */
  'extraction:completed': (event: {
    model: string;
    dryRun: boolean;
    facts: number;
    operations: number;
    rejected: number;
    written: number;
    usage: { inputTokens: number; outputTokens: number; calls: number };
    warnings: string[];
    durationMs: number;
  }) => void;
  /** A push round sent local changes to the sync server (see docs/sync.md). */
  'sync:pushed': (event: { operations: number; applied: number; duplicate: number; merged: number; ignored: number }) => void;
  /** A pull brought the server's changes into this store; `cursor` is where the next pull starts. */
  'sync:pulled': (event: { changes: number; cursor: number }) => void;
  /** A sync round failed (the server unreachable, a 4xx/5xx); the next round retries. */
  'sync:error': (event: { error: Error }) => void;
}

export type MemoryEventName = keyof MemoryEvents;
