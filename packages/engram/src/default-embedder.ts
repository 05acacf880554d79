export { type DefaultEmbedderOptions, defaultEmbedder } from '@engram/embedders/default';
