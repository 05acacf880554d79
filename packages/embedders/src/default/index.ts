export { type DefaultEmbedderOptions, defaultEmbedder } from './default-embedder.js';
