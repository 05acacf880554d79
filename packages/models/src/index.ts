export type { AnthropicModel, AnthropicModelOptions } from './anthropic-model.js';
export { anthropicModel, DEFAULT_ANTHROPIC_BASE_URL } from './anthropic-model.js';
export { modelFromEnvironment, OLLAMA_BASE_URL } from './model-from-environment.js';
export type { OpenAICompatibleModel, OpenAICompatibleModelOptions } from './openai-compatible-model.js';
export { DEFAULT_OPENAI_BASE_URL, openaiCompatibleModel } from './openai-compatible-model.js';
