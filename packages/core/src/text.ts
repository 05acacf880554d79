import { createHash } from 'node:crypto';

/** The exact-duplicate key: sha256 of the trimmed, case-folded content (whitespace runs folded). */
export function contentHash(content: string): string {
  const normalised = content.trim().replace(/\s+/g, ' ').toLowerCase();
  return createHash('sha256').update(normalised).digest('hex');
}

/** Tags as stored: trimmed, lower-cased, de-duplicated, empty ones dropped, order kept. */
export function normaliseTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    const normalised = tag.trim().toLowerCase();
    if (normalised) seen.add(normalised);
  }
  return [...seen];
}

const wordPattern = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Lower-cased word tokens (unicode letters and digits; simple apostrophes kept inside words). */
export function words(text: string): string[] {
  return text.toLowerCase().match(wordPattern) ?? [];
}

/** A rough token count for prompt budgets (~4 characters a token, the usual rule of thumb). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
