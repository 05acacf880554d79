export { type KnownOpenAIModel, knownOpenAIModel } from './known-models.js';
export {
  DEFAULT_OPENAI_BASE_URL,
  DEFAULT_OPENAI_MODEL,
  type OpenAIEmbedder,
  type OpenAIEmbedderOptions,
  openaiEmbedder,
} from './openai-embedder.js';
