import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The REST server's bin (runs the build: npm run build first). */
const bin = fileURLToPath(new URL('../../packages/rest/bin/engram-server.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `engram-server` as its own process and resolves once it listens. */
export function startServer(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [bin, ...args], {
    ...(cwd ? { cwd } : {}),
    env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_PATH: '', ENGRAM_PG_URL: '', ENGRAM_API_KEYS: '', ENGRAM_KEYS_FILE: '', ...env },
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /serving .* at (http:\/\/[\d.:]+)/.exec(stderr);
      if (match) {
        const url = match[1] as string;
        resolve({ child, url, port: Number(new URL(url).port), output: () => stderr, exited });
      }
    });
    child.on('close', (code) => reject(new Error(`engram-server exited (${code}): ${stderr}`)));
  });
}
