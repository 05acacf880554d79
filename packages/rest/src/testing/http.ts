import type { paths } from './openapi-types.generated.js';

/** The HTTP methods the API's routes answer, as the OpenAPI document names them. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The routes (paths of the OpenAPI document) that answer `method`. */
export type RouteWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P][M] extends { responses: object } ? P : never;
}[keyof paths];

type Operation<P extends keyof paths, M extends HttpMethod> = paths[P][M];

/** The JSON body a route takes (as the OpenAPI document describes it); never when it takes none. */
export type RequestBody<P extends keyof paths, M extends HttpMethod> = Operation<P, M> extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** The JSON body of a route's success answer (200 or 201) as the OpenAPI document describes it. */
export type SuccessBody<P extends keyof paths, M extends HttpMethod> = Operation<P, M> extends { responses: infer Responses }
  ? Responses extends { 200: { content: { 'application/json': infer Body } } }
    ? Body
    : Responses extends { 201: { content: { 'application/json': infer Body } } }
      ? Body
      : never
  : never;

export interface RequestOptions<P extends keyof paths, M extends HttpMethod> {
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  body?: RequestBody<P, M>;
  /** Query parameters, appended to the path. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * A success answer's body typed by the route, or an error's: `ok` (a 2xx status) tells which,
 * so a test reads fields only after it checked the status (`expectOk`).
 */
export type JsonAnswer<P extends keyof paths, M extends HttpMethod> =
  | { ok: true; status: number; json: SuccessBody<P, M>; headers: Headers }
  | { ok: false; status: number; json: ErrorBody; headers: Headers };

/** An error answer's body (the `Error` schema of the document). */
export type ErrorBody = { error?: { code?: string; message?: string; field?: string } };

/**
 * One request to a running server (`serve`, or the `engram-server` process), its JSON answer
 * typed by the route from the committed OpenAPI types (`openapi-types.generated.ts`), so a test
 * that reads a field the document does not describe fails to typecheck.
 */
export async function requestJson<M extends HttpMethod, P extends RouteWith<M>>(
  baseUrl: string,
  method: M,
  path: P,
  options: RequestOptions<P, M> = {},
): Promise<JsonAnswer<P, M>> {
  const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
  const response = await fetch(`${baseUrl}${path}${query}`, {
    method: method.toUpperCase(),
    headers: {
      ...(options.key !== undefined ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  // The one place the body's type is taken on trust: from the document the server is tested against.
  const json: unknown = await response.json();
  const { status, headers } = response;
  return response.ok
    ? { ok: true, status, json: json as SuccessBody<P, M>, headers }
    : { ok: false, status, json: json as ErrorBody, headers };
}

/** The success body of an answer; throws, naming the status and the error, when it is not one. */
export function expectOk<P extends keyof paths, M extends HttpMethod>(answer: JsonAnswer<P, M>): SuccessBody<P, M> {
  if (!answer.ok) throw new Error(`expected a 2xx answer, got ${answer.status}: ${JSON.stringify(answer.json)}`);
  return answer.json;
}
