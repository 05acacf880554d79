import { useEffect, useRef } from 'preact/hooks';
import type { LiveEvent } from './api';

// Pages subscribe to the one event stream the shell holds open.
const subscribers = new Set<(event: LiveEvent) => void>();

export function publish(event: LiveEvent): void {
  for (const subscriber of subscribers) subscriber(event);
}

/** Calls `handler` for each event of the tenant's stream while the component is mounted. */
export function useLiveEvents(handler: (event: LiveEvent) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const subscriber = (event: LiveEvent) => latest.current(event);
    subscribers.add(subscriber);
    return () => {
      subscribers.delete(subscriber);
    };
  }, []);
}
