import { request as httpRequest } from 'node:http';
import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from './serve.js';

let server: ServerHandle;
const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });

beforeAll(async () => {
  server = await serve({ memory, port: 0, bodyLimit: 2_000, log: () => {} });
});
afterAll(async () => {
  await server?.close();
});

/** A POST over a real socket, the body declared by Content-Length or sent in chunks (no declared length). */
function post(path: string, body: string, framing: 'length' | 'chunked'): Promise<{ status: number; json: { error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${server.url}${path}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(framing === 'length' ? { 'content-length': Buffer.byteLength(body) } : { 'transfer-encoding': 'chunked' }),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    request.on('error', reject);
    if (framing === 'chunked') for (let at = 0; at < body.length; at += 500) request.write(body.slice(at, at + 500));
    else request.write(body);
    request.end();
  });
}

describe('the body limit over a real socket', () => {
  const small = JSON.stringify({ content: 'the deploy key rotates monthly' });
  const large = JSON.stringify({ content: 'x'.repeat(3_000) });

  it('lets bodies within the limit through, declared or chunked', async () => {
    expect((await post('/api/memories', small, 'length')).status).toBe(201);
    expect((await post('/api/search', JSON.stringify({ query: 'deploy key' }), 'chunked')).status).toBe(200);
  });

  it('refuses a larger body with 413, whether its length is declared or it streams in chunks', async () => {
    const before = await memory.count();
    for (const framing of ['length', 'chunked'] as const) {
      const response = await post('/api/memories', large, framing);
      expect(response.status).toBe(413);
      expect(response.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
    }
    expect(await memory.count()).toBe(before);
  });
});
