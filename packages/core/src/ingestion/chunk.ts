import { estimateTokens } from '../text/text.js';
import type { DocumentBlock } from './parse.js';

export interface ChunkOptions {
  /** Tokens a chunk aims for (≈ 4 characters each). Default 400. */
  targetTokens?: number;
  /** Tokens of the previous chunk of the same section repeated at the start of the next. Default 40. */
  overlapTokens?: number;
}

export interface DocumentChunk {
  content: string;
  headings: string[];
  offset: number;
  page?: number;
}

/**
 * Packs blocks into chunks that follow the structure: consecutive blocks of one section (same
 * heading path) and page join until the token target; a new section or page starts a new chunk;
 * a block over the target is split at sentence ends, then at words. Each chunk after the first
 * of a section starts with the last `overlapTokens` of the previous one.
 */
export function chunkBlocks(blocks: readonly DocumentBlock[], options: ChunkOptions = {}): DocumentChunk[] {
  const target = options.targetTokens ?? 400;
  const overlap = options.overlapTokens ?? 40;
  const chunks: DocumentChunk[] = [];
  let current: DocumentChunk | undefined;
  const sameSection = (a: DocumentChunk, b: DocumentBlock) => a.page === b.page && a.headings.join('\u0000') === b.headings.join('\u0000');
  const start = (block: DocumentBlock, text: string, offset: number, previous: DocumentChunk | undefined) => {
    const carried = previous && overlap > 0 && sameSection(previous, block) ? tail(previous.content, overlap) : '';
    current = {
      content: carried ? `${carried} ${text}` : text,
      headings: block.headings,
      offset,
      ...(block.page !== undefined ? { page: block.page } : {}),
    };
    chunks.push(current);
  };
  for (const block of blocks) {
    for (const piece of split(block.text, target)) {
      const offset = block.offset + piece.offset;
      if (current && sameSection(current, block) && estimateTokens(`${current.content}\n\n${piece.text}`) <= target) {
        current.content = `${current.content}\n\n${piece.text}`;
      } else start(block, piece.text, offset, current);
    }
  }
  return chunks;
}

/** Pieces of at most `target` tokens: whole when it fits, else by sentences, else by words. */
function split(text: string, target: number): Array<{ text: string; offset: number }> {
  if (estimateTokens(text) <= target) return [{ text, offset: 0 }];
  const pieces: Array<{ text: string; offset: number }> = [];
  const units = text.match(/[^.!?\n]+(?:[.!?]+|\n|$)\s*/g) ?? [text];
  let buffer = '';
  let bufferOffset = 0;
  let position = 0;
  const flush = () => {
    if (buffer.trim().length > 0) pieces.push({ text: buffer.trim(), offset: bufferOffset });
    buffer = '';
  };
  for (const unit of units) {
    if (estimateTokens(unit) > target) {
      flush();
      // One sentence longer than the target: cut at words.
      const maxCharacters = target * 4;
      let cut = 0;
      while (cut < unit.length) {
        let end = Math.min(unit.length, cut + maxCharacters);
        const space = unit.lastIndexOf(' ', end);
        if (end < unit.length && space > cut) end = space;
        const part = unit.slice(cut, end).trim();
        if (part) pieces.push({ text: part, offset: position + cut });
        cut = end;
      }
    } else if (estimateTokens(buffer + unit) > target) {
      flush();
      buffer = unit;
      bufferOffset = position;
    } else {
      if (buffer.length === 0) bufferOffset = position;
      buffer += unit;
    }
    position += unit.length;
  }
  flush();
  return pieces;
}

/** The last ≈ `tokens` tokens of a text, starting at a word. */
function tail(text: string, tokens: number): string {
  const characters = tokens * 4;
  if (text.length <= characters) return text;
  const cut = text.indexOf(' ', text.length - characters);
  return text.slice(cut === -1 ? text.length - characters : cut + 1);
}
