import { open } from 'node:fs/promises';

/** What a session decided and learned, in the order said (latest last). */
export interface SessionNotes {
  decisions: string[];
  learnings: string[];
}

export interface TranscriptMessage {
  role: 'user' | 'assistant';
  text: string;
}

/** Largest tail of a transcript read, in bytes: long sessions keep their latest part. */
export const MAX_TRANSCRIPT_BYTES = 4 * 1024 * 1024;

/**
 * The user and assistant text of a Claude Code transcript (JSONL, one event per line, message
 * content a string or a list of blocks). Tool calls, tool results, side chains and
 * system-injected text are left out. Unreadable lines are skipped.
 */
export async function readTranscript(path: string, maxBytes = MAX_TRANSCRIPT_BYTES): Promise<TranscriptMessage[]> {
  const file = await open(path, 'r');
  let text: string;
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    await file.read(buffer, 0, buffer.length, start);
    text = buffer.toString('utf8');
    // A tail starts mid-line: drop the partial first line.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
  } finally {
    await file.close();
  }
  const messages: TranscriptMessage[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    const message = messageOf(event);
    if (message) messages.push(message);
  }
  return messages;
}

function messageOf(event: unknown): TranscriptMessage | null {
  if (typeof event !== 'object' || event === null) return null;
  const record = event as Record<string, unknown>;
  if (record.isSidechain === true || record.isMeta === true) return null;
  const type = record.type;
  if (type !== 'user' && type !== 'assistant') return null;
  const message = record.message as { role?: unknown; content?: unknown } | undefined;
  const content = message?.content;
  let text = '';
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    text = content
      .filter(
        (block): block is { type: 'text'; text: string } =>
          typeof block === 'object' && block !== null && block.type === 'text' && typeof block.text === 'string',
      )
      .map((block) => block.text)
      .join('\n');
  }
  text = text.trim();
  // Slash commands, hook output and reminders are injected as user text in angle-bracket tags.
  if (!text || text.startsWith('<')) return null;
  return { role: type, text };
}

const DECISION =
  /\b(decided|decide to|decision|we(?:'ll| will| should) (?:use|go with|keep|switch|stick)|let'?s (?:use|go with|keep|switch|stick)|going with|go with|chose|chosen|opted|settled on|switch(?:ed)? to|instead of|rather than|agreed)\b/i;
const LEARNING =
  /\b(learned|lesson|turns out|turned out|root cause|the (?:issue|problem|bug|cause|culprit) (?:was|is)|caused by|gotcha|note that|keep in mind|caveat|workaround|the fix (?:was|is)|fixed by|realized|discovered|important(?=:)|must (?:always|never)|never .+ without|doesn't work|does not work)\b/i;

/** Splits text into candidate statements: list items and sentences, markdown stripped. */
function statements(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, ' ');
  const result: string[] = [];
  for (const rawLine of withoutCode.split('\n')) {
    const line = rawLine
      .replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '')
      .replace(/^#+\s*/, '')
      .replace(/\*\*|__/g, '')
      .trim();
    if (!line) continue;
    for (const sentence of line.split(/(?<=[.!?])\s+(?=[A-Z`"'(])/)) result.push(sentence.trim());
  }
  return result;
}

function usable(statement: string): boolean {
  if (statement.length < 25 || statement.length > 300) return false;
  if (statement.endsWith('?')) return false;
  if (/^\$ |^>|^\||[{};]\s*$/.test(statement)) return false;
  const symbols = statement.replace(/[\w\s.,'"`()-]/g, '').length;
  return symbols / statement.length < 0.15;
}

/**
 * Heuristic extraction: statements that read like a decision ("decided", "we'll use", "instead
 * of", …) or a learning ("turns out", "root cause", "the fix was", …), de-duplicated, the latest
 * `limit` of each. No model involved; precise enough for a session record, not for facts.
 */
export function extractSessionNotes(messages: TranscriptMessage[], limit = 5): SessionNotes {
  const decisions: string[] = [];
  const learnings: string[] = [];
  const seen = new Set<string>();
  for (const message of messages) {
    for (const statement of statements(message.text)) {
      if (!usable(statement)) continue;
      const key = statement
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, ' ')
        .trim();
      if (seen.has(key)) continue;
      if (DECISION.test(statement)) decisions.push(statement);
      else if (LEARNING.test(statement)) learnings.push(statement);
      else continue;
      seen.add(key);
    }
  }
  return { decisions: decisions.slice(-limit), learnings: learnings.slice(-limit) };
}
