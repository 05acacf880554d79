import type { Relation, Scope } from '../contracts/model.js';
import type { ConsolidationStep } from './consolidation-options.js';
import type { Protection } from './forgetting.js';

/** A memory forgetting takes (or, in a dry run, would take). */
export interface ForgottenMemory {
  id: string;
  type: string;
  /** The first 80 characters of its content. */
  preview: string;
  score: number;
  ageDays: number;
  reason: string;
}

/** A cluster compression turns (or would turn) into one `pattern` memory. */
export interface CompressedCluster {
  /** The source memories, sorted. */
  ids: string[];
  type: string;
  summary: string;
  /** 'extractive', or 'model' when a LanguageModel wrote it. */
  summarySource: 'extractive' | 'model';
  reason: string;
  /** The pattern memory, once written (never in a dry run). */
  patternId?: string;
  /** Sources archived and soft-deleted (`compression.archiveSources`). */
  archivedIds?: string[];
}

export interface SuggestedAssociation {
  sourceId: string;
  targetId: string;
  type: string;
  confidence: number;
  reasons: string[];
  /** The edge written (never in a dry run). */
  relation?: Relation;
}

/** What `consolidate()` did — or, with `dryRun` (the default), would do. */
export interface ConsolidationReport {
  dryRun: boolean;
  /** The instant ages were measured from. */
  now: Date;
  scope: Scope;
  steps: ConsolidationStep[];
  /** Live, not superseded memories in scope that were read. */
  scanned: number;
  durationMs: number;
  relevance?: {
    scored: number;
    /** Scores written to the store (0 in a dry run, or when the store keeps none). */
    stored: number;
    mean: number;
    /** Memories per score band: [0, 0.05), [0.05, 0.1), [0.1, 0.25), [0.25, 0.5), [0.5, 1]. */
    bands: Array<{ from: number; to: number; count: number }>;
    /** The ten lowest scores. */
    lowest: Array<{ id: string; score: number }>;
  };
  forgetting?: {
    forgotten: ForgottenMemory[];
    /** Memories under the threshold and old enough that a protection kept. */
    protected: Record<Protection, number>;
    /** Where the forgotten memories were archived (null in a dry run). */
    archive: string | null;
  };
  compression?: {
    clusters: CompressedCluster[];
    /** Similarities computed: grows linearly with the memories scanned. */
    comparisons: number;
  };
  associations?: {
    examined: number;
    suggestions: SuggestedAssociation[];
    written: number;
  };
}
