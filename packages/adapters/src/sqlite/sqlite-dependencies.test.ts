import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as {
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

describe('@engram/adapters/sqlite dependencies', () => {
  it('declares every package its runtime code imports as a peer dependency (drivers optional)', () => {
    const sources = readdirSync(here).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
    const imported = new Set<string>();
    for (const file of sources) {
      const text = readFileSync(join(here, file), 'utf8');
      for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)'([^'.][^']*)'/g)) {
        const specifier = match[1] as string;
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string));
      }
    }
    expect([...imported].sort()).toEqual(['@engram/core', 'better-sqlite3', 'kysely', 'sqlite-vec']);
    for (const name of imported) expect(manifest.peerDependencies?.[name], name).toBeDefined();
    for (const driver of ['better-sqlite3', 'kysely', 'sqlite-vec']) expect(manifest.peerDependenciesMeta?.[driver]?.optional).toBe(true);
  });
});
