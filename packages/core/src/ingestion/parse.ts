/**
 * Documents → blocks: the structural units chunking packs together (a paragraph, a list, a code
 * block, a table row, a JSON record, a PDF paragraph), each with the heading path above it, its
 * character offset in the source text and, for PDFs, its page. Pure functions of the text.
 */

export type DocumentFormat = 'markdown' | 'text' | 'html' | 'json' | 'jsonl' | 'csv' | 'code' | 'pdf';

export interface DocumentBlock {
  text: string;
  /** Headings above the block, outermost first ("Install", "Windows"). */
  headings: string[];
  /** Character offset of the block in the document text (in its page's text for PDFs). */
  offset: number;
  /** 1-based page (PDF). */
  page?: number;
}

const CODE_EXTENSIONS = new Set([
  'ts',
  'tsx',
  'js',
  'jsx',
  'mjs',
  'cjs',
  'py',
  'rb',
  'go',
  'rs',
  'java',
  'kt',
  'swift',
  'c',
  'h',
  'cc',
  'cpp',
  'hpp',
  'cs',
  'php',
  'scala',
  'sh',
  'bash',
  'zsh',
  'sql',
  'lua',
  'r',
  'dart',
  'ex',
  'exs',
  'clj',
  'hs',
  'ml',
  'vue',
  'svelte',
  'css',
  'scss',
  'yaml',
  'yml',
  'toml',
  'ini',
  'xml',
  'proto',
  'graphql',
  'tf',
]);

/** The format a file name implies, or undefined for an extension Engram does not read. */
export function formatOf(filename: string): DocumentFormat | undefined {
  const extension = /\.([^./\\]+)$/.exec(filename.toLowerCase())?.[1];
  if (extension === undefined) return undefined;
  if (extension === 'md' || extension === 'markdown' || extension === 'mdx') return 'markdown';
  if (extension === 'txt' || extension === 'text' || extension === 'log' || extension === 'rst') return 'text';
  if (extension === 'html' || extension === 'htm') return 'html';
  if (extension === 'json') return 'json';
  if (extension === 'jsonl' || extension === 'ndjson') return 'jsonl';
  if (extension === 'csv') return 'csv';
  if (extension === 'pdf') return 'pdf';
  if (CODE_EXTENSIONS.has(extension)) return 'code';
  return undefined;
}

/** Blocks of a text document in this format (PDF pages go through `pageBlocks`). */
export function parseBlocks(text: string, format: Exclude<DocumentFormat, 'pdf'>): DocumentBlock[] {
  switch (format) {
    case 'markdown':
      return markdownBlocks(text);
    case 'html':
      return htmlBlocks(text);
    case 'json':
      return jsonBlocks(text);
    case 'jsonl':
      return jsonlBlocks(text);
    case 'csv':
      return csvBlocks(text);
    case 'code':
      return paragraphBlocks(text, [], 0, /\n\s*\n/);
    default:
      return paragraphBlocks(text, [], 0);
  }
}

/** Paragraph blocks of PDF pages (text per page, as extracted), each with its page number. */
export function pageBlocks(pages: readonly string[]): DocumentBlock[] {
  return pages.flatMap((page, index) => paragraphBlocks(page, [], 0).map((block) => ({ ...block, page: index + 1 })));
}

/** Blocks separated by blank lines (or `separator`), trimmed, with their offsets. */
function paragraphBlocks(text: string, headings: string[], base: number, separator = /\n\s*\n/): DocumentBlock[] {
  const blocks: DocumentBlock[] = [];
  const pattern = new RegExp(separator.source, 'g');
  let start = 0;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const trimmed = raw.trim();
    if (trimmed.length > 0) blocks.push({ text: trimmed, headings, offset: base + start + raw.indexOf(trimmed) });
  };
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    push(match.index);
    start = match.index + match[0].length;
  }
  push(text.length);
  return blocks;
}

/** Markdown: ATX headings (`#`…`######`) open sections; fenced code stays whole; paragraphs and lists are blocks. */
function markdownBlocks(text: string): DocumentBlock[] {
  const blocks: DocumentBlock[] = [];
  const headings: string[] = [];
  const lines = text.split('\n');
  let offset = 0;
  let buffer: string[] = [];
  let bufferStart = 0;
  let fence: string | undefined;
  const flush = () => {
    const joined = buffer.join('\n');
    const trimmed = joined.trim();
    if (trimmed.length > 0) blocks.push({ text: trimmed, headings: [...headings], offset: bufferStart + joined.indexOf(trimmed) });
    buffer = [];
  };
  for (const line of lines) {
    const lineStart = offset;
    offset += line.length + 1;
    if (fence !== undefined) {
      buffer.push(line);
      if (line.trim().startsWith(fence)) {
        fence = undefined;
        flush();
      }
      continue;
    }
    const fenceOpen = /^\s*(```|~~~)/.exec(line);
    if (fenceOpen) {
      flush();
      fence = fenceOpen[1];
      bufferStart = lineStart;
      buffer.push(line);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      const level = (heading[1] as string).length;
      headings.length = Math.min(headings.length, level - 1);
      while (headings.length < level - 1) headings.push('');
      headings.push((heading[2] as string).trim());
      continue;
    }
    if (line.trim().length === 0) {
      flush();
      continue;
    }
    if (buffer.length === 0) bufferStart = lineStart;
    buffer.push(line);
  }
  flush();
  return blocks.map((block) => ({ ...block, headings: block.headings.filter((heading) => heading.length > 0) }));
}

const NOISE = /<(script|style|nav|header|footer|aside|noscript|template|svg|form|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const BLOCK_TAGS = /<\/?(p|div|section|article|main|li|ul|ol|pre|blockquote|table|tr|td|th|br|hr|dd|dt|figcaption|h[1-6])\b[^>]*>/gi;

/**
 * HTML: scripts, styles, navigation, headers, footers, asides and forms are dropped; `<h1>`–`<h6>`
 * open sections; block elements (paragraphs, list items, table cells, pre) separate blocks. The
 * `<title>` is not content (the caller uses it as the document title, see `htmlTitle`).
 */
function htmlBlocks(html: string): DocumentBlock[] {
  const body = html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<head\b[\s\S]*?<\/head\s*>/i, ' ')
    .replace(NOISE, ' ');
  const blocks: DocumentBlock[] = [];
  const headings: string[] = [];
  const pattern = /<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi;
  let last = 0;
  const addText = (fragment: string, offset: number) => {
    const separated = fragment.replace(BLOCK_TAGS, '\n\n').replace(/<[^>]+>/g, ' ');
    for (const block of paragraphBlocks(decodeEntities(separated), [...headings], offset)) {
      const text = block.text
        .replace(/[ \t]+/g, ' ')
        .replace(/\n{2,}/g, '\n')
        .trim();
      if (text.length > 0) blocks.push({ ...block, text });
    }
  };
  for (let match = pattern.exec(body); match !== null; match = pattern.exec(body)) {
    addText(body.slice(last, match.index), last);
    const level = Number(match[1]);
    headings.length = Math.min(headings.length, level - 1);
    const title = decodeEntities((match[2] as string).replace(/<[^>]+>/g, ' '))
      .replace(/\s+/g, ' ')
      .trim();
    if (title) headings.push(title);
    last = match.index + match[0].length;
  }
  addText(body.slice(last), last);
  return blocks;
}

/** The `<title>` of an HTML document, if any. */
export function htmlTitle(html: string): string | undefined {
  const title = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html)?.[1];
  const text = title === undefined ? '' : decodeEntities(title).replace(/\s+/g, ' ').trim();
  return text.length > 0 ? text : undefined;
}

/** The first `# heading` of a Markdown document, if any. */
export function markdownTitle(text: string): string | undefined {
  return /^#\s+(.+?)\s*#*\s*$/m.exec(text)?.[1];
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : entity;
    }
    return named[name.toLowerCase()] ?? entity;
  });
}

/** JSON: an array gives one block per element; an object one block per top-level key (its path as heading). */
function jsonBlocks(text: string): DocumentBlock[] {
  const value: unknown = JSON.parse(text);
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [`[${index}]`, item])
    : typeof value === 'object' && value !== null
      ? Object.entries(value)
      : [['', value]];
  return entries.map(([key, item]) => ({
    text: typeof item === 'string' ? item : JSON.stringify(item, null, 1),
    headings: key ? [key] : [],
    offset: Math.max(0, key && !key.startsWith('[') ? text.indexOf(JSON.stringify(key)) : 0),
  }));
}

/** JSON Lines: one block per line (invalid lines are an error naming the line). */
function jsonlBlocks(text: string): DocumentBlock[] {
  const blocks: DocumentBlock[] = [];
  let offset = 0;
  text.split('\n').forEach((line, index) => {
    const start = offset;
    offset += line.length + 1;
    if (line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`line ${index + 1} is not valid JSON (${(error as Error).message})`);
    }
    blocks.push({ text: typeof value === 'string' ? value : JSON.stringify(value), headings: [`line ${index + 1}`], offset: start });
  });
  return blocks;
}

/** CSV (RFC 4180 quoting): one block per row, written "column: value; …" with the header's names. */
function csvBlocks(text: string): DocumentBlock[] {
  const rows = parseCsv(text);
  const header = rows.shift()?.row ?? [];
  return rows
    .filter(({ row }) => row.some((cell) => cell.trim().length > 0))
    .map(({ row, offset }) => ({
      text: row.map((cell, index) => `${header[index] ?? `column ${index + 1}`}: ${cell}`).join('; '),
      headings: [],
      offset,
    }));
}

function parseCsv(text: string): Array<{ row: string[]; offset: number }> {
  const rows: Array<{ row: string[]; offset: number }> = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let rowStart = 0;
  for (let index = 0; index < text.length; index++) {
    const character = text[index] as string;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (character === '"') quoted = false;
      else cell += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      row.push(cell);
      cell = '';
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[index + 1] === '\n') index++;
      row.push(cell);
      rows.push({ row, offset: rowStart });
      row = [];
      cell = '';
      rowStart = index + 1;
    } else cell += character;
  }
  if (cell.length > 0 || row.length > 0) {
    row.push(cell);
    rows.push({ row, offset: rowStart });
  }
  return rows;
}
