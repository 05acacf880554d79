import { createEngramMcpServer, type EngramMcpServerOptions } from '../engram-mcp-server.js';
import type { LazyMemory } from '../memory-source.js';
import type { ScopeDefaults } from '../tools/tool-kit.js';

/** What every transport needs to build servers for one shared memory. */
export interface ServeOptions {
  memory: LazyMemory;
  defaults: ScopeDefaults;
  compat: boolean;
  log: (message: string) => void;
  allowIngest?: readonly string[];
}

export function buildServer(options: ServeOptions) {
  const serverOptions: EngramMcpServerOptions = {
    memory: options.memory,
    defaults: options.defaults,
    compat: options.compat,
    log: options.log,
    ...(options.allowIngest ? { allowIngest: options.allowIngest } : {}),
  };
  return createEngramMcpServer(serverOptions);
}

/**
 * Opens the store and loads the embedder in the background, so the first tool call does not
 * pay for it. Failures are only logged: the tool call that needs the store reports them.
 */
export function warmUp(options: ServeOptions): void {
  setImmediate(() => {
    void (async () => {
      try {
        const memory = await options.memory.get();
        await memory.ready();
        const embedder = memory.embedder as { load?: () => Promise<unknown> };
        if (typeof embedder.load === 'function') await embedder.load();
      } catch (error) {
        options.log(`could not open the store yet (tool calls will report why): ${error instanceof Error ? error.message : String(error)}`);
      }
    })();
  });
}
