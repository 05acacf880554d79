// Types of memory-tools.mjs, for TypeScript projects that copy it.
import type { Memory, Scope } from '@engram/core';
import type { FunctionTool } from '@openai/agents';

export interface EngramAgentToolsOptions<Context> {
  /** An Engram scope, or a function of the run's context (what you pass to `run(…, { context })`). */
  scope?: Scope | ((context: Context) => Scope);
}

/** remember, recall, memory_context, link and forget, as OpenAI Agents SDK function tools. */
export function engramAgentTools<Context = Record<string, unknown>>(
  memory: Memory,
  options?: EngramAgentToolsOptions<Context>,
): FunctionTool<Context>[];
