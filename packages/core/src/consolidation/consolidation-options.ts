import * as z from 'zod';
import type { LanguageModel } from '../contracts/language-model.js';
import { ValidationError } from '../model/errors.js';
import { scopeSchema } from '../model/schema.js';
import type { ConsolidationArchive } from './archive.js';

export const CONSOLIDATION_STEPS = ['relevance', 'forgetting', 'compression', 'associations'] as const;
export type ConsolidationStep = (typeof CONSOLIDATION_STEPS)[number];

/** Steps a `consolidate()` call runs when it names none: associations cost one search per memory, so they are opt-in. */
export const DEFAULT_STEPS: readonly ConsolidationStep[] = ['relevance', 'forgetting', 'compression'];

/**
 * Days a memory of each base type keeps e^-1 (37%) of its importance in the decay score.
 * Errors and decisions are kept longer than observations. Types not listed use `default`.
 */
export const DEFAULT_RETENTION_DAYS: Readonly<Record<string, number>> = {
  observation: 30,
  learning: 180,
  pattern: 365,
  decision: 365,
  error: 365,
  default: 90,
};

/** How `consolidate()` scores, forgets, compresses and links. Every field is optional. */
export interface ConsolidationOptions {
  /** Retention (days) per base type, merged over `DEFAULT_RETENTION_DAYS`; `default` covers the rest. */
  retentionDays?: Record<string, number>;
  /** Access boost = 1 + accessBoost × ln(1 + accessCount). Default 0.2. */
  accessBoost?: number;
  /** Connection boost = 1 + connectionBoost × ln(1 + number of edges). Default 0.2. */
  connectionBoost?: number;
  forgetting?: {
    /** Memories whose decay score is below this are forgotten (when old enough and unprotected). Default 0.05. */
    threshold?: number;
    /** Never forget a memory younger than this. Default 90 days. */
    minAgeDays?: number;
    /** Never forget a memory whose importance is at least this. Default 0.7. */
    protectImportance?: number;
    /** Never forget a memory carrying this tag. Default 'keep'. */
    keepTag?: string;
  };
  compression?: {
    /** Cosine similarity at which two memories are near duplicates. Default 0.9. */
    similarity?: number;
    /** Similarity that is enough when the two share a tag. Default 0.8. */
    taggedSimilarity?: number;
    /** Only memories created within this many days of each other cluster. Default 30. */
    windowDays?: number;
    /** Smallest cluster that becomes a pattern. Default 3. */
    minClusterSize?: number;
    /** Archive and soft-delete the sources once their pattern exists (protected ones stay). Default false. */
    archiveSources?: boolean;
  };
  associations?: {
    /** Suggestions below this confidence are left out. Default 0.85. */
    confidence?: number;
    /** Memories examined per run (newest unlinked first): each costs one search. Default 1000. */
    limit?: number;
  };
  /** Where forgotten memories are written before they are soft-deleted. Required to apply forgetting. */
  archive?: ConsolidationArchive;
  /** Writes the pattern summaries when given (default: the Memory's `model`); otherwise they are extractive. */
  model?: LanguageModel;
}

export interface ResolvedConsolidationOptions {
  retentionDays: Record<string, number>;
  accessBoost: number;
  connectionBoost: number;
  forgetting: { threshold: number; minAgeDays: number; protectImportance: number; keepTag: string };
  compression: { similarity: number; taggedSimilarity: number; windowDays: number; minClusterSize: number; archiveSources: boolean };
  associations: { confidence: number; limit: number };
  archive: ConsolidationArchive | undefined;
  model: LanguageModel | undefined;
}

export function resolveConsolidationOptions(options: ConsolidationOptions = {}): ResolvedConsolidationOptions {
  const problems: Array<{ field: string; message: string }> = [];
  const check = (field: string, value: number, valid: boolean, expected: string) => {
    if (!valid || !Number.isFinite(value))
      problems.push({ field: `consolidation.${field}`, message: `must be ${expected} (got ${value})` });
  };
  const unit = (value: number) => value >= 0 && value <= 1;
  const retentionDays = { ...DEFAULT_RETENTION_DAYS, ...(options.retentionDays ?? {}) };
  for (const [type, days] of Object.entries(retentionDays)) check(`retentionDays.${type}`, days, days > 0, 'a number of days > 0');
  const resolved: ResolvedConsolidationOptions = {
    retentionDays,
    accessBoost: options.accessBoost ?? 0.2,
    connectionBoost: options.connectionBoost ?? 0.2,
    forgetting: {
      threshold: options.forgetting?.threshold ?? 0.05,
      minAgeDays: options.forgetting?.minAgeDays ?? 90,
      protectImportance: options.forgetting?.protectImportance ?? 0.7,
      keepTag: (options.forgetting?.keepTag ?? 'keep').trim().toLowerCase(),
    },
    compression: {
      similarity: options.compression?.similarity ?? 0.9,
      taggedSimilarity: options.compression?.taggedSimilarity ?? 0.8,
      windowDays: options.compression?.windowDays ?? 30,
      minClusterSize: options.compression?.minClusterSize ?? 3,
      archiveSources: options.compression?.archiveSources ?? false,
    },
    associations: {
      confidence: options.associations?.confidence ?? 0.85,
      limit: options.associations?.limit ?? 1000,
    },
    archive: options.archive,
    model: options.model,
  };
  check('accessBoost', resolved.accessBoost, resolved.accessBoost >= 0, 'a number >= 0');
  check('connectionBoost', resolved.connectionBoost, resolved.connectionBoost >= 0, 'a number >= 0');
  check('forgetting.threshold', resolved.forgetting.threshold, unit(resolved.forgetting.threshold), 'a number from 0 to 1');
  check('forgetting.minAgeDays', resolved.forgetting.minAgeDays, resolved.forgetting.minAgeDays >= 0, 'a number of days >= 0');
  check(
    'forgetting.protectImportance',
    resolved.forgetting.protectImportance,
    unit(resolved.forgetting.protectImportance),
    'a number from 0 to 1',
  );
  if (resolved.forgetting.keepTag.length === 0) problems.push({ field: 'consolidation.forgetting.keepTag', message: 'must not be empty' });
  check('compression.similarity', resolved.compression.similarity, unit(resolved.compression.similarity), 'a number from 0 to 1');
  check(
    'compression.taggedSimilarity',
    resolved.compression.taggedSimilarity,
    unit(resolved.compression.taggedSimilarity),
    'a number from 0 to 1',
  );
  check('compression.windowDays', resolved.compression.windowDays, resolved.compression.windowDays > 0, 'a number of days > 0');
  check(
    'compression.minClusterSize',
    resolved.compression.minClusterSize,
    Number.isInteger(resolved.compression.minClusterSize) && resolved.compression.minClusterSize >= 2,
    'an integer >= 2',
  );
  check('associations.confidence', resolved.associations.confidence, unit(resolved.associations.confidence), 'a number from 0 to 1');
  check(
    'associations.limit',
    resolved.associations.limit,
    Number.isInteger(resolved.associations.limit) && resolved.associations.limit >= 1,
    'an integer >= 1',
  );
  if (options.archive !== undefined && typeof options.archive?.append !== 'function') {
    problems.push({
      field: 'consolidation.archive',
      message: 'must have an append(records) method, e.g. jsonlArchive({ path }) from engram',
    });
  }
  if (options.model !== undefined && typeof options.model?.complete !== 'function') {
    problems.push({ field: 'consolidation.model', message: 'must be a LanguageModel with a complete() method' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return resolved;
}

const dateSchema = z.union([z.date(), z.string(), z.number()]).transform((value, context) => {
  const parsed = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(parsed.getTime())) {
    context.addIssue({ code: 'custom', message: 'is not a valid date (use a Date, an ISO string or epoch milliseconds)' });
    return z.NEVER;
  }
  return parsed;
});

const stepSchema = z.enum(CONSOLIDATION_STEPS, { error: `must be one of ${CONSOLIDATION_STEPS.join(', ')}` });

export const consolidateInputSchema = z
  .object({
    scope: scopeSchema.optional(),
    /** Default true: report what would happen and write nothing. */
    dryRun: z.boolean().optional(),
    /** The instant ages are measured from. Default: the Memory's clock. */
    now: dateSchema.optional(),
    /** Steps to run, in any order (they always run relevance → forgetting → compression → associations). */
    steps: z.array(stepSchema).min(1, 'name at least one step').optional(),
    /** Called as each step advances. */
    onProgress: z
      .custom<(progress: ConsolidationProgress) => void>((value) => typeof value === 'function', 'must be a function')
      .optional(),
  })
  .strict();

export interface ConsolidationProgress {
  step: ConsolidationStep | 'scan';
  done: number;
  total: number;
}

export interface ConsolidateOptions {
  scope?: { userId?: string; agentId?: string; runId?: string };
  /** Default true: report what would happen and write nothing. Pass false to apply. */
  dryRun?: boolean;
  /** The instant ages are measured from (Date, ISO string or epoch ms). Default: now. */
  now?: Date | string | number;
  /** Steps to run. Default relevance, forgetting, compression (associations are opt-in). */
  steps?: ConsolidationStep[];
  onProgress?: (progress: ConsolidationProgress) => void;
}
