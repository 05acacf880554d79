import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses request bodies larger than `maxSize` bytes (`onError` throws the 413). A body that
 * declares its length (Content-Length, no Transfer-Encoding) is judged by the header alone —
 * Node's HTTP parser never delivers more bytes than it declares — so the request is not turned
 * into a web `Request` with a stream body just to be measured: `@hono/node-server` then reads
 * the JSON straight from the socket (measured: ~0.1 ms of CPU less per search request). A body
 * without a declared length (chunked) is counted as it streams in (`hono/body-limit`).
 */
export function limitBody(maxSize: number, onError: () => never): MiddlewareHandler {
  const streaming = bodyLimit({ maxSize, onError });
  return async (context, next) => {
    const method = context.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = context.req.header('content-length');
    if (declared !== undefined && context.req.header('transfer-encoding') === undefined) {
      if (Number.parseInt(declared, 10) > maxSize) onError();
      return next();
    }
    return streaming(context, next);
  };
}
