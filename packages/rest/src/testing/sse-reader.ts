/** One parsed server-sent event. */
export interface ReceivedEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads an SSE response: `next(predicate)` resolves with the first event matching, comments count as `{ event: 'comment' }`. */
export function sseReader(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pending: ReceivedEvent[] = [];

  const pull = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const event: ReceivedEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.event ??= 'comment';
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event') event[field] = value;
          else if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
        }
      }
      pending.push(event);
      boundary = buffer.indexOf('\n\n');
    }
    return true;
  };

  return {
    async next(
      predicate: (event: ReceivedEvent) => boolean = (event) => event.event !== 'comment',
      timeoutMs = 5000,
    ): Promise<ReceivedEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = pending.findIndex(predicate);
        if (index >= 0) return pending.splice(index, 1)[0] as ReceivedEvent;
        pending.length = 0;
        if (Date.now() > deadline) throw new Error('no matching event in time');
        const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), Math.max(1, deadline - Date.now())));
        if (!(await Promise.race([pull(), timer]))) throw new Error('stream ended');
      }
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  };
}
