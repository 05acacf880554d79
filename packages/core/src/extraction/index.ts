export { describeTypes, extractionPrompt, reconcilePrompt } from './extraction-prompts.js';
export type {
  ExtractedFact,
  FactsAnswer,
  ReconcileAnswer,
  ReconcileOperation,
  ReconcileOperationName,
} from './extraction-schemas.js';
export {
  FACTS_JSON_SCHEMA,
  FACTS_SCHEMA_NAME,
  factsSchema,
  RECONCILE_JSON_SCHEMA,
  RECONCILE_OPERATIONS,
  RECONCILE_SCHEMA_NAME,
  reconcileSchema,
} from './extraction-schemas.js';
export type {
  AddOutcome,
  ConversationMessage,
  InferenceHost,
  InferenceOptions,
  InferencePlan,
  InferenceUsage,
  InferOptions,
  InferResult,
  InferredMemory,
  InferStatus,
  NewMemory,
  PlanChanges,
  PlannedOperation,
  PlanOutcome,
  RelatedMemory,
} from './infer-memories.js';
export {
  DEFAULT_MAX_RELATED,
  DEFAULT_RELATED_THRESHOLD,
  inferMemories,
  normaliseMessages,
  renderTranscript,
  resolveInferenceOptions,
} from './infer-memories.js';
