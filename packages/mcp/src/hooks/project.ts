import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The nearest folder at or above `cwd` holding `.git` (a folder, or a file in worktrees), or null. */
export function findGitRoot(cwd: string): string | null {
  let folder = resolve(cwd);
  for (;;) {
    if (existsSync(join(folder, '.git'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) return null;
    folder = parent;
  }
}

/** The project a session belongs to: the git root's folder name, else the working folder's. */
export function projectOf(cwd: string): { name: string; root: string } {
  const root = findGitRoot(cwd) ?? resolve(cwd);
  return { name: basename(root) || 'root', root };
}

/** The project tag hooks write and read: `project:<name>`, lower-case, spaces as dashes. */
export function projectTag(name: string): string {
  return `project:${name.trim().toLowerCase().replace(/\s+/g, '-')}`;
}

/** The checked-out branch (from .git/HEAD), or null when detached or unknown. */
export function currentBranch(root: string): string | null {
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    const match = /^ref:\s*refs\/heads\/(.+)$/.exec(head);
    return match ? (match[1] as string) : null;
  } catch {
    return null;
  }
}
