/**
 * Optional: used for fact extraction and reconciliation (`memory.add(messages, { infer: true })`).
 * Nothing requires it. Adapters live in `@engram/models`; a test double is a plain object.
 */
export interface LanguageModel {
  readonly specificationVersion: 'v1';
  /** Provider and model, e.g. 'openai:gpt-4o-mini'. Recorded as provenance on inferred memories. */
  readonly id: string;
  /**
   * One completion. With `json`, the answer's text is one JSON object; with `json.schema`, an
   * adapter uses the provider's structured output (OpenAI `json_schema`, Anthropic tool use) and
   * falls back to plain JSON mode where the server has none. A plain string answer is accepted
   * from test doubles and means "no usage reported".
   */
  complete(request: LanguageModelRequest): Promise<LanguageModelResponse | string>;
}

export interface LanguageModelMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A named JSON Schema the answer must follow (names such as 'engram_facts': letters, digits, _ and -). */
export interface LanguageModelJsonSchema {
  name: string;
  description?: string;
  schema: Record<string, unknown>;
}

export interface LanguageModelRequest {
  system?: string;
  messages: LanguageModelMessage[];
  /** `true`: any JSON object; a schema: JSON following it. */
  json?: boolean | LanguageModelJsonSchema;
  /** Upper bound on the answer's tokens. Adapters have their own default. */
  maxOutputTokens?: number;
  /** Default: the adapter's (usually 0 for structured output). */
  temperature?: number;
  signal?: AbortSignal;
}

export interface LanguageModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface LanguageModelResponse {
  /** The answer's text (with `json`, the JSON object as text). */
  text: string;
  usage?: LanguageModelUsage;
}
