import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { type EventFilter, matchesFilter, type StreamEvent } from '../events/event-hubs.js';
import { EventsQuerySchema } from '../schemas.js';
import type { EngramHono, RouteDependencies } from './app-env.js';
import { splitList } from './request-values.js';
import { ERRORS, SECURITY } from './responses.js';

const eventsRoute = createRoute({
  method: 'get',
  path: '/api/events',
  tags: ['events'],
  summary: 'Server-sent events of your tenant: memory:added|updated|deleted|superseded, relation:added|removed',
  description:
    'Every event has an `id:`; reconnect with `Last-Event-ID` to receive what you missed. A comment line every 15 s keeps ' +
    'proxies from closing the stream. Filters: userId, agentId, runId (scope equality) and tags (any of them, comma-separated).',
  security: SECURITY,
  request: { query: EventsQuerySchema },
  responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } }, ...ERRORS },
});

export function registerEventRoutes(app: EngramHono, dependencies: RouteDependencies): void {
  app.openapi(eventsRoute, async (context) => {
    const query = context.req.valid('query');
    const tags = splitList(query.tags);
    const filter: EventFilter = {
      ...(query.userId !== undefined ? { userId: query.userId } : {}),
      ...(query.agentId !== undefined ? { agentId: query.agentId } : {}),
      ...(query.runId !== undefined ? { runId: query.runId } : {}),
      ...(tags && tags.length > 0 ? { tags } : {}),
    };
    const hub = dependencies.events.for(context.get('memory'));
    const lastEventId = context.req.header('last-event-id') ?? undefined;
    return streamSSE(context, async (stream) => {
      const queue: StreamEvent[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const unsubscribe = await hub.subscribe(
        (event) => {
          if (!matchesFilter(event, filter)) return;
          queue.push(event);
          wake?.();
        },
        lastEventId,
        () => {
          // The server is shutting down: end the stream so the client reconnects elsewhere.
          ended = true;
          wake?.();
        },
      );
      const heartbeat = setInterval(() => {
        void stream.write(': heartbeat\n\n').catch(() => {});
      }, dependencies.heartbeatMs);
      stream.onAbort(() => {
        clearInterval(heartbeat);
        unsubscribe();
        wake?.();
      });
      await stream.write(': connected\n\n');
      try {
        while (!stream.aborted && !stream.closed && !ended) {
          const event = queue.shift();
          if (!event) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            continue;
          }
          await stream.writeSSE({ id: event.id, event: event.name, data: JSON.stringify(event.data) });
        }
      } finally {
        clearInterval(heartbeat);
        unsubscribe();
      }
    }) as never;
  });
}
