/**
 * The text of a stored value that search ranks: the values at the index's field paths.
 *
 * A path is dot-separated (`title`, `author.name`); `[n]` picks an array element (negative from the
 * end), `[*]` every element, and `$` (or an empty path) the whole value as JSON. Strings, numbers
 * and booleans give their text; objects and arrays give their JSON.
 */
export function textsAtPath(value: unknown, path: string): string[] {
  if (path === '' || path === '$') return [JSON.stringify(value)];
  return collect(value, tokenize(path), 0);
}

function tokenize(path: string): string[] {
  const tokens: string[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[[^\]]*\])*)$/.exec(part);
    if (!match) {
      tokens.push(part);
      continue;
    }
    if (match[1]) tokens.push(match[1]);
    for (const index of (match[2] ?? '').match(/\[[^\]]*\]/g) ?? []) tokens.push(index);
  }
  return tokens;
}

function leafText(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (value !== null && typeof value === 'object') return [JSON.stringify(value)];
  return [];
}

function collect(value: unknown, tokens: string[], position: number): string[] {
  if (position >= tokens.length) return leafText(value);
  const token = tokens[position] as string;
  if (token.startsWith('[')) {
    if (!Array.isArray(value)) return [];
    const index = token.slice(1, -1);
    if (index === '*') return value.flatMap((element) => collect(element, tokens, position + 1));
    const parsed = Number.parseInt(index, 10);
    if (Number.isNaN(parsed)) return [];
    const at = parsed < 0 ? value.length + parsed : parsed;
    return at >= 0 && at < value.length ? collect(value[at], tokens, position + 1) : [];
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  if (!Object.hasOwn(value, token)) return [];
  return collect((value as Record<string, unknown>)[token], tokens, position + 1);
}

/** Every text the given paths select, in path order, without empty strings. */
export function indexedTexts(value: unknown, paths: readonly string[]): string[] {
  return paths.flatMap((path) => textsAtPath(value, path)).filter((text) => text.trim().length > 0);
}
