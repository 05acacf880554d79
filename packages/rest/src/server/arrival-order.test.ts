import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { inArrivalOrder } from './arrival-order.js';

function busy(milliseconds: number): void {
  const until = performance.now() + milliseconds;
  while (performance.now() < until) {
    // a request's CPU work
  }
}

/** A connected loopback socket pair: what one side writes, the other reads in a later event-loop turn. */
async function socketPair(): Promise<{ writer: Socket; reader: Socket; close(): void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  const accepted = once(server, 'connection');
  const writer = connect(address.port, '127.0.0.1');
  await once(writer, 'connect');
  const [reader] = (await accepted) as [Socket];
  return {
    writer,
    reader,
    close() {
      writer.destroy();
      reader.destroy();
      server.close();
    },
  };
}

describe('inArrivalOrder', () => {
  it('starts handlers in call order and passes results and errors through', async () => {
    const started: number[] = [];
    const handler = inArrivalOrder(async (index: number) => {
      started.push(index);
      if (index === 2) throw new Error('handler 2 failed');
      return index * 10;
    });
    const results = await Promise.allSettled([0, 1, 2, 3].map((index) => handler(index)));
    expect(started).toEqual([0, 1, 2, 3]);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).toEqual([
      0,
      10,
      'handler 2 failed',
      30,
    ]);
  });

  it('lets Node read new input between two queued handlers, so a later arrival is not overtaken by a whole batch', async () => {
    const pair = await socketPair();
    try {
      const events: string[] = [];
      pair.reader.on('data', () => events.push('input read'));
      const handler = inArrivalOrder((index: number) => {
        events.push(`handler ${index}`);
        // The first handler makes input arrive while it works (as a new request does under load).
        if (index === 0) pair.writer.write('next request');
        busy(5);
      });
      await Promise.all([0, 1, 2].map((index) => handler(index)));
      // Calling the handlers directly would give handler 0, 1, 2 and only then the read.
      expect(events).toEqual(['handler 0', 'input read', 'handler 1', 'handler 2']);
    } finally {
      pair.close();
    }
  });

  it('orders only the start: a handler awaiting I/O does not hold back the next one', async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = inArrivalOrder(async (index: number) => {
      events.push(`start ${index}`);
      if (index === 0) await slow;
      events.push(`end ${index}`);
    });
    const first = handler(0);
    await handler(1);
    release();
    await first;
    expect(events).toEqual(['start 0', 'start 1', 'end 1', 'end 0']);
  });
});
