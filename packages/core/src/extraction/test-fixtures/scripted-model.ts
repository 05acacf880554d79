import type { LanguageModel, LanguageModelRequest } from '../../contracts/language-model.js';

/** What a scripted model answers for one schema: a value (sent as JSON), raw text, an Error to throw, or a function of the request. */
export type ScriptedAnswer = unknown | ((request: LanguageModelRequest) => unknown);

/**
 * A `LanguageModel` test double that answers the two named schemas from a script. It is a plain
 * object implementing the public contract, not a mock of our own code.
 */
export function scriptedModel(script: { engram_facts?: ScriptedAnswer; engram_reconcile?: ScriptedAnswer }, id = 'scripted:test') {
  const requests: LanguageModelRequest[] = [];
  const model: LanguageModel & { requests: LanguageModelRequest[] } = {
    specificationVersion: 'v1',
    id,
    requests,
    async complete(request) {
      requests.push(request);
      const name = typeof request.json === 'object' ? request.json.name : '';
      const entry = (script as Record<string, ScriptedAnswer>)[name];
      if (entry === undefined) throw new Error(`the script has no answer for ${name || 'a text request'}`);
      const value = typeof entry === 'function' ? await (entry as (request: LanguageModelRequest) => unknown)(request) : entry;
      if (value instanceof Error) throw value;
      return { text: typeof value === 'string' ? value : JSON.stringify(value), usage: { inputTokens: 100, outputTokens: 10 } };
    },
  };
  return model;
}
