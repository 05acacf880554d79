// What the REST agents share: the server's address and their tenant's API key (from the
// environment), JSON calls that send `X-Agent-ID`, and a reader for the server-sent event stream.
// Plain fetch: any language with HTTP can do the same.

const url = process.env.ENGRAM_URL;
const key = process.env.ENGRAM_KEY;
if (!url || !key) throw new Error('set ENGRAM_URL and ENGRAM_KEY (index.mjs --rest does)');

/** One JSON call as agent `agent`: the server sets scope.agentId and the tag agent:<name> on what it writes. */
export async function call(agent, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      'x-agent-id': agent,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Subscribes to GET /api/events with these filters; resolves once subscribed, with the events `{ event, data }` to come. */
export async function subscribe(query) {
  const response = await fetch(`${url}/api/events?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  if (!response.ok) throw new Error(`GET /api/events: ${response.status} ${await response.text()}`);
  return parse(response.body);
}

async function* parse(body) {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((line) => !line.startsWith(':'))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
      );
      if (fields.event) yield { event: fields.event, data: JSON.parse(fields.data) };
      boundary = buffer.indexOf('\n\n');
    }
  }
}
