import type { Scope } from '../contracts/model.js';

/** The scope with only the fields that are set (no `undefined` keys). */
export function compactScope(scope: Scope | undefined): Scope {
  const result: Scope = {};
  if (scope?.userId !== undefined) result.userId = scope.userId;
  if (scope?.agentId !== undefined) result.agentId = scope.agentId;
  if (scope?.runId !== undefined) result.runId = scope.runId;
  return result;
}
