import { EventEmitter } from 'eventemitter3';
import type { MemoryEventName, MemoryEvents } from './events.js';

/** Where warnings go besides the `warning` event: a function, or `false` to silence them. */
export type Logger = ((message: string) => void) | false;

/**
 * The one emitter of a `Memory`, shared by its parts, and where warnings go. Every part emits
 * through it; listeners subscribe through `Memory.on`.
 */
export class EventHub {
  private readonly emitter = new EventEmitter<MemoryEvents>();
  private readonly logger: (message: string) => void;
  private readonly warnedOnce = new Set<string>();

  /** `undefined` logs to console.warn with an `[engram]` prefix. */
  constructor(logger: Logger | undefined) {
    const chosen = logger === undefined ? (message: string) => console.warn(`[engram] ${message}`) : logger;
    this.logger = chosen === false ? () => {} : chosen;
  }

  on<Name extends MemoryEventName>(event: Name, handler: MemoryEvents[Name]): void {
    this.emitter.on(event, handler as never);
  }

  once<Name extends MemoryEventName>(event: Name, handler: MemoryEvents[Name]): void {
    this.emitter.once(event, handler as never);
  }

  off<Name extends MemoryEventName>(event: Name, handler?: MemoryEvents[Name]): void {
    this.emitter.off(event, handler as never);
  }

  emit<Name extends MemoryEventName>(event: Name, payload: Parameters<MemoryEvents[Name]>[0]): void {
    (this.emitter.emit as (event: MemoryEventName, payload: unknown) => boolean)(event, payload);
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }

  /** To the logger and the `warning` event. */
  warn(message: string): void {
    this.logger(message);
    this.emit('warning', { message });
  }

  /** `warn`, once per key for the life of this hub. */
  warnOnce(key: string, message: string): void {
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    this.warn(message);
  }
}
