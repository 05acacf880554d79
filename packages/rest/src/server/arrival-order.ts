/**
 * Starts requests in the order they arrived, one per event-loop turn.
 *
 * Node runs a request's handler as soon as its bytes are read, and reads every socket the kernel
 * reports ready in one go. Under steady load (16 connections, ~1.5 ms of CPU a search) one turn
 * runs ~16 searches back to back, and the kernel reports sockets in the order they were reported
 * in the previous turn, not in the order their new requests arrived (epoll re-queues a
 * level-triggered socket where it was). A connection whose request arrives just after a turn
 * began therefore waits out that turn and most of the next: about 4 % of searches took two turns
 * (p50 22 ms, p99 47 ms on one worker). Queuing each handler and starting one per turn lets Node
 * read new requests between two handlers, so every request waits for the ones that arrived before
 * it and no others: the same throughput, p99 close to p50.
 *
 * Only the start is ordered: a handler that awaits I/O (a Postgres store) lets the next one start,
 * so requests still overlap.
 */
export function inArrivalOrder<Arguments extends unknown[], Result>(
  handler: (...args: Arguments) => Result | Promise<Result>,
): (...args: Arguments) => Promise<Result> {
  const waiting: Array<() => void> = [];
  let scheduled = false;
  const startNext = (): void => {
    waiting.shift()?.();
    if (waiting.length > 0) setImmediate(startNext);
    else scheduled = false;
  };
  return (...args) =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(startNext);
      }
    }).then(() => handler(...args));
}
