import type { Memory } from '@engram/core';
import type { LanguageModelMiddleware } from 'ai';
import { type MemoryScope, scopeOf } from './memory-scope.js';

type CallOptions = Parameters<NonNullable<LanguageModelMiddleware['transformParams']>>[0]['params'];
type Prompt = CallOptions['prompt'];

export interface EngramMiddlewareOptions {
  /** Memories are read from (and, with `remember`, written to) this scope. */
  scope?: MemoryScope;
  /** Budget of the injected memory block. Default 1000 tokens. */
  tokenBudget?: number;
  /**
   * What to store after each call: `false` (default) stores nothing; `'user'` stores the user's
   * message; `'exchange'` stores the user's message and the model's text answer.
   */
  remember?: false | 'user' | 'exchange';
  /** Called when reading or writing memory fails; the model call goes on without memory. Default: rethrow. */
  onError?: (error: unknown) => void;
}

/** The text of the last user message of a prompt: what the memory query is about. */
export function lastUserText(prompt: Prompt): string {
  for (let index = prompt.length - 1; index >= 0; index--) {
    const message = prompt[index];
    if (message?.role !== 'user') continue;
    return message.content
      .map((part) => (part.type === 'text' ? part.text : ''))
      .join('\n')
      .trim();
  }
  return '';
}

/**
 * A `wrapLanguageModel` middleware: before each call it looks up `memory.context()` for the last
 * user message and adds its text (headed "Relevant memories (most relevant first):") as a system
 * message after the caller's own system messages;
 * with `remember` it stores the exchange afterwards.
 */
export function engramMiddleware(memory: Memory, options: EngramMiddlewareOptions = {}): LanguageModelMiddleware {
  const bounds = options.scope ?? {};
  const scope = scopeOf(bounds);

  function fail(error: unknown): void {
    if (!options.onError) throw error;
    options.onError(error);
  }

  async function store(userText: string, answer: string): Promise<void> {
    if (!options.remember || userText === '') return;
    const common = {
      scope,
      type: 'conversation',
      source: 'ai-sdk',
      ...(bounds.conversationId === undefined ? {} : { conversationId: bounds.conversationId }),
    };
    const inputs = [{ ...common, content: userText, metadata: { role: 'user' } }];
    if (options.remember === 'exchange' && answer.trim() !== '') {
      inputs.push({ ...common, content: answer.trim(), metadata: { role: 'assistant' } });
    }
    try {
      await memory.addMany(inputs);
    } catch (error) {
      fail(error);
    }
  }

  return {
    specificationVersion: 'v3',
    transformParams: async ({ params }) => {
      const query = lastUserText(params.prompt);
      if (query === '') return params;
      let text = '';
      try {
        text = (await memory.context({ query, tokenBudget: options.tokenBudget ?? 1000, scope })).text;
      } catch (error) {
        fail(error);
      }
      if (text === '') return params;
      const firstNonSystem = params.prompt.findIndex((message) => message.role !== 'system');
      const at = firstNonSystem === -1 ? params.prompt.length : firstNonSystem;
      const prompt: Prompt = [...params.prompt.slice(0, at), { role: 'system', content: text }, ...params.prompt.slice(at)];
      return { ...params, prompt };
    },
    wrapGenerate: async ({ doGenerate, params }) => {
      const result = await doGenerate();
      if (options.remember) {
        const answer = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
        await store(lastUserText(params.prompt), answer);
      }
      return result;
    },
    wrapStream: async ({ doStream, params }) => {
      const result = await doStream();
      if (!options.remember) return result;
      const userText = lastUserText(params.prompt);
      let answer = '';
      const collect = new TransformStream<StreamPart, StreamPart>({
        transform(part, controller) {
          if (part.type === 'text-delta') answer += part.delta;
          controller.enqueue(part);
        },
        flush: () => store(userText, answer),
      });
      return { ...result, stream: result.stream.pipeThrough(collect) };
    },
  };
}

type StreamResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware['wrapStream']>>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer Part> ? Part : never;
