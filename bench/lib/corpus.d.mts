// Types of corpus.mjs, for the tests that use the bench corpus.
import type { AddInput } from '@engram/core';

export function random(seed: number): () => number;
export const vocabulary: string[];
export function memoryAt(index: number, users?: number): AddInput;
export function memories(from: number, to: number, users?: number): AddInput[];
export function queries(count: number, seed?: number): string[];
