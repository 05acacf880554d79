export interface KnownOpenAIModel {
  dimensions: number;
  /** The server can shorten vectors when the request carries `dimensions` (Matryoshka training). */
  shortenable: boolean;
}

/**
 * Models whose vector size is known, by the name the server uses. Ollama's tags
 * ('nomic-embed-text:latest') are looked up without the tag. Anything else needs `dimensions`.
 */
const KNOWN_MODELS: Record<string, KnownOpenAIModel> = {
  // OpenAI
  'text-embedding-3-small': { dimensions: 1536, shortenable: true },
  'text-embedding-3-large': { dimensions: 3072, shortenable: true },
  'text-embedding-ada-002': { dimensions: 1536, shortenable: false },
  // Ollama library names
  'nomic-embed-text': { dimensions: 768, shortenable: false },
  'mxbai-embed-large': { dimensions: 1024, shortenable: false },
  'all-minilm': { dimensions: 384, shortenable: false },
  'snowflake-arctic-embed': { dimensions: 1024, shortenable: false },
  'bge-m3': { dimensions: 1024, shortenable: false },
  'bge-large': { dimensions: 1024, shortenable: false },
};

export function knownOpenAIModel(model: string): KnownOpenAIModel | undefined {
  const name = model.toLowerCase();
  return KNOWN_MODELS[name] ?? KNOWN_MODELS[name.replace(/:latest$/, '')];
}
