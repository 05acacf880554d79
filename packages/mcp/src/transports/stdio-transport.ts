import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpServerHandle } from '../start-mcp-server.js';
import { buildServer, type ServeOptions, warmUp } from './serve-options.js';

/** Serves one client over this process's stdin/stdout until stdin closes. */
export async function serveStdio(options: ServeOptions, settings: { warmUp: boolean }): Promise<McpServerHandle> {
  // stdout carries the protocol: anything a library prints there would corrupt it.
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;

  const server = buildServer(options);
  const transport = new StdioServerTransport();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      process.stdin.off('end', close);
      try {
        await server.close();
      } finally {
        await options.memory.close().catch((error: unknown) => options.log(`closing the store failed: ${(error as Error).message}`));
        resolveClosed();
      }
    })();
    return closing;
  };
  if (settings.warmUp) server.server.oninitialized = () => warmUp(options);
  await server.connect(transport);
  // The client closing our stdin is how stdio sessions end.
  process.stdin.once('end', close);
  return { transport: 'stdio', closed, close };
}
