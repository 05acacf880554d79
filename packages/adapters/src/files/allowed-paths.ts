import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ValidationError } from '@engram/core';

/** The folder part of a path or glob (everything before the first segment with a wildcard). */
function baseOf(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((part) => /[*?[]/.test(part));
  return firstGlob === -1 ? pattern : parts.slice(0, firstGlob).join('/') || '.';
}

/**
 * Checks that every path lies inside one of the folders the server was started with
 * (`--allow-ingest` of the MCP and REST servers), after resolving symbolic links: a request never
 * reads anything else. Relative paths are taken from the first allowed folder. Returns absolute paths.
 */
export async function checkIngestPaths(paths: string[], allowed: readonly string[]): Promise<string[]> {
  if (allowed.length === 0) {
    throw new ValidationError([
      {
        field: 'paths',
        message:
          'this server reads no files: start it with --allow-ingest <folder> to allow ingesting from a folder, or pass text and title',
      },
    ]);
  }
  const roots = await Promise.all(allowed.map((folder) => realpath(resolve(folder)).catch(() => resolve(folder))));
  const checked: string[] = [];
  for (const path of paths) {
    const absolute = isAbsolute(path) ? path : resolve(roots[0] as string, path);
    const base = await realpath(baseOf(absolute)).catch(() => resolve(baseOf(absolute)));
    const inside = roots.some((root) => {
      const from = relative(root, base);
      return from === '' || (!from.startsWith('..') && !isAbsolute(from) && !from.split(sep).includes('..'));
    });
    if (!inside) {
      throw new ValidationError([
        { field: 'paths', message: `${path} is outside the folders this server may read (${allowed.join(', ')})` },
      ]);
    }
    checked.push(absolute);
  }
  return checked;
}
