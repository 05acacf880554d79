import { ValidationError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import type { AnthropicModel } from './anthropic-model.js';
import { modelFromEnvironment } from './model-from-environment.js';
import type { OpenAICompatibleModel } from './openai-compatible-model.js';

describe('modelFromEnvironment', () => {
  it('is undefined without ENGRAM_MODEL', () => {
    expect(modelFromEnvironment({})).toBeUndefined();
    expect(modelFromEnvironment({ ENGRAM_MODEL: '  ' })).toBeUndefined();
  });

  it('reads provider:model, the URL and the key', () => {
    const openai = modelFromEnvironment({ ENGRAM_MODEL: 'openai:gpt-4o-mini', ENGRAM_MODEL_KEY: 'sk-1' }) as OpenAICompatibleModel;
    expect([openai.id, openai.baseURL]).toEqual(['openai-compatible:gpt-4o-mini', 'https://api.openai.com/v1']);
    const ollama = modelFromEnvironment({ ENGRAM_MODEL: 'ollama:qwen2.5:7b' }) as OpenAICompatibleModel;
    expect([ollama.model, ollama.baseURL]).toEqual(['qwen2.5:7b', 'http://localhost:11434/v1']);
    const vllm = modelFromEnvironment({
      ENGRAM_MODEL: 'qwen2.5:7b',
      ENGRAM_MODEL_URL: 'http://localhost:8000/v1',
    }) as OpenAICompatibleModel;
    expect([vllm.model, vllm.baseURL]).toEqual(['qwen2.5:7b', 'http://localhost:8000/v1']);
    const claude = modelFromEnvironment({ ENGRAM_MODEL: 'claude-3-5-haiku-latest', ANTHROPIC_API_KEY: 'k' }) as AnthropicModel;
    expect(claude.id).toBe('anthropic:claude-3-5-haiku-latest');
  });

  it('names the variable to fix', () => {
    const error = (environment: Record<string, string>) => {
      try {
        modelFromEnvironment(environment);
      } catch (caught) {
        return caught as ValidationError;
      }
      throw new Error('expected an error');
    };
    expect(error({ ENGRAM_MODEL: 'anthropic:claude-x' }).field).toBe('ENGRAM_MODEL_KEY');
    expect(error({ ENGRAM_MODEL: 'gpt-4o-mini' }).field).toBe('ENGRAM_MODEL_KEY');
    expect(error({ ENGRAM_MODEL: 'openai:' }).field).toBe('ENGRAM_MODEL');
    const url = error({ ENGRAM_MODEL: 'm', ENGRAM_MODEL_URL: 'localhost:1234' });
    expect(ValidationError.isInstance(url) && url.field).toBe('ENGRAM_MODEL_URL');
  });
});
