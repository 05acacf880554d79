import type { EmbedderFactory } from '@engram/core';
import { defaultEmbedder } from '@engram/embedders/default';

/** A store keeps the embedder it was built with; a new store gets `choice` (auto: local model when available, else hash). */
export function embedderChoice(choice: string, log: (message: string) => void): EmbedderFactory {
  return defaultEmbedder({ choice, log });
}
