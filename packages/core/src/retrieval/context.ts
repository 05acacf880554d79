import { type ContextOptions, contextOptionsSchema, validate } from '../model/schema.js';
import { estimateTokens } from '../text/text.js';
import type { Searcher, SearchHit } from './searcher.js';

export interface ContextResult {
  /** Prompt-ready text: one line per memory, best first, within the token budget. */
  text: string;
  /** Estimated tokens of `text` (about 4 characters a token). */
  tokens: number;
  /** The hits that made it into `text`, in order. */
  hits: SearchHit[];
}

const HEADER = 'Relevant memories (most relevant first):';

/** The best memories for a query, packed into a prompt-ready block within a token budget. */
export async function packContext(searcher: Searcher, options: ContextOptions): Promise<ContextResult> {
  const parsed = validate(contextOptionsSchema, options, 'options');
  const { query, tokenBudget = 1000, limit = 50, ...searchOptions } = parsed;
  const hits = await searcher.search(query, { ...searchOptions, limit });
  const lines: string[] = [];
  const included: SearchHit[] = [];
  let tokens = estimateTokens(HEADER);
  for (const hit of hits) {
    const memory = hit.memory;
    const label = memory.subtype ? `${memory.type}/${memory.subtype}` : memory.type;
    const tags = memory.tags.length > 0 ? ` #${memory.tags.join(' #')}` : '';
    let line = `- [${label}, ${memory.createdAt.toISOString().slice(0, 10)}] ${memory.content.replace(/\s+/g, ' ').trim()}${tags}`;
    let cost = estimateTokens(`\n${line}`);
    if (tokens + cost > tokenBudget) {
      // Truncate the first memory rather than return nothing; skip later ones that do not fit.
      if (included.length > 0) continue;
      const room = (tokenBudget - tokens) * 4 - 4;
      if (room < 40) break;
      line = `${line.slice(0, room)}…`;
      cost = estimateTokens(`\n${line}`);
    }
    lines.push(line);
    included.push(hit);
    tokens += cost;
  }
  const text = lines.length > 0 ? `${HEADER}\n${lines.join('\n')}` : '';
  return { text, tokens: text ? tokens : 0, hits: included };
}
