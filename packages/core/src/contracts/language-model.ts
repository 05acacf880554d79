/** Optional: used for fact extraction, summaries and contradiction checks. Nothing requires it. */
export interface LanguageModel {
  readonly specificationVersion: 'v1';
  readonly id: string;
  complete(request: {
    system?: string;
    messages: Array<{ role: 'user' | 'assistant'; content: string }>;
    json?: boolean;
    signal?: AbortSignal;
  }): Promise<string>;
}
