import type { Hono } from 'hono';

export interface CallResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field.
  json: any;
  headers: Headers;
}

/** One request through `app.request()`, the body parsed as JSON when it is JSON. */
export async function call(
  app: Pick<Hono, 'request'>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  const response = await app.request(`http://localhost${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, headers: response.headers };
}
