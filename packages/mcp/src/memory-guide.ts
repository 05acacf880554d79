import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** Sent in `initialize`: clients add it to the model's instructions. Kept short; memory_guide has the rest. */
export const SERVER_INSTRUCTIONS =
  'Engram is long-term memory that persists across sessions. Search it (memory_search, or memory_context with a task description) ' +
  'before starting a task and whenever the user refers to earlier work. Store (memory_store) durable decisions with their reasons, ' +
  'learnings and gotchas, bugs with their fixes, and user preferences: one self-contained fact per memory, with a type and tags. ' +
  'Never store secrets. When a stored fact changes, update it or resolve the contradiction (memory_resolve). The memory_guide prompt has details.';

/** When to store and search, how to type, tag and link: the `memory_guide` prompt. */
export function memoryGuide(project?: string): string {
  const projectTag = project ? `project:${project.trim().toLowerCase().replace(/\s+/g, '-')}` : 'project:<name>';
  return `# Working with Engram memory

Engram keeps what you learn across sessions. It only knows what you store, and it only helps if you search it.

## Search first
- At the start of a task, call memory_context with a one-line description of the task (or memory_search with keywords).
- Search again when the user says "like last time", "what did we decide", "didn't we fix this before", or when you hit an error that may have happened before.
- Narrow with types (e.g. ["decision"]), tags (e.g. ["${projectTag}"]) and time ("last week", "since monday").

## Store what will matter later
Store when you:
- make or learn of a decision, with the reason and the alternatives rejected (type: decision, or architecture / tool_choice / approach / configuration);
- learn something non-obvious: a gotcha, a best practice, a root cause (type: learning, or insight / gotcha / best_practice / anti_pattern);
- hit a bug, failure or timeout, and again when it is fixed (type: error, or bug / failure / exception / timeout);
- notice a recurring problem or a workflow that works (type: pattern);
- learn a preference of the user ("prefers pnpm", "wants small commits").

Write each memory as one self-contained statement that makes sense months later without this conversation:
name the component, file or command, and say why. Add tags for the project (${projectTag}) and the area (e.g. billing, ci).
Set importance 0.8 or more for things that must not be forgotten; leave the default (0.5) otherwise.
Use key for a fact you will keep updating (e.g. key "deploy-procedure"): storing again with the same key updates it.

Do not store: secrets, tokens or personal data; what the code or git history already says; raw logs; transient state ("I'm now editing file x").

## Keep memory true
- A fact changed: memory_update it, or store the new fact and memory_resolve(winner_id = new, loser_id = old) so the old one stops appearing.
- Relate memories with memory_link: a fix "fixes" a bug, a cause "causes" an error, evidence "supports" a decision, "follows" for sequences, "related" otherwise.
- memory_graph explores those links; memory_delete removes mistakes (filters are a dry run until dry_run is false).
`;
}

export function registerMemoryGuide(server: McpServer): void {
  server.registerPrompt(
    'memory_guide',
    {
      title: 'How to use Engram memory',
      description: 'When to search and store memories, how to type, tag and link them.',
      argsSchema: { project: z.string().optional().describe('The project name, used in the suggested tags.') },
    },
    ({ project }) => ({
      description: 'How to use Engram memory',
      messages: [{ role: 'user', content: { type: 'text', text: memoryGuide(project) } }],
    }),
  );
}
