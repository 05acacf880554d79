/**
 * Each integration package declares every package its published code imports (as a dependency or
 * a peer), keeps frameworks out of `dependencies` (they are the application's choice), and the
 * repository installs each framework for its tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['ai-sdk', 'langgraph', 'mastra'];
const frameworks = /^(ai|@langchain\/.+|@mastra\/.+)$/;

interface Manifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'test-model.ts' ? [path] : [];
  });
}

function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1] as string);
  return specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .map((specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string)));
}

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

describe.each(packages)('@engram/%s', (name) => {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as Manifest;
  const imported = [...new Set(sourceFiles(join(root, 'packages', name, 'src')).flatMap(importedPackages))].sort();

  it('declares every package its code imports', () => {
    expect(imported.length).toBeGreaterThan(0);
    for (const dependency of imported) {
      const declared = manifest.dependencies?.[dependency] ?? manifest.peerDependencies?.[dependency];
      expect(declared, `${dependency} is imported by packages/${name}/src`).toBeDefined();
    }
  });

  it('takes frameworks and Engram as peers, and the repository installs them for tests', () => {
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      expect(frameworks.test(dependency) || dependency.startsWith('@engram/'), `${dependency} belongs in peerDependencies`).toBe(false);
    }
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
      if (peer.startsWith('@engram/') || peer === 'vitest') continue;
      expect(rootManifest.devDependencies?.[peer], `${peer} is a devDependency of the repository`).toBeDefined();
    }
  });
});
