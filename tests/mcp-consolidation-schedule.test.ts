import { hashEmbedder, inMemoryStore, Memory, memoryArchive } from '@engram/core';
import { parseCommandLine, startMcpServer, UsageError } from '@engram/mcp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDuration, scheduleConsolidation } from '../packages/mcp/src/consolidation-schedule.js';
import { LazyMemory } from '../packages/mcp/src/memory-source.js';

describe('scheduled consolidation (MCP HTTP server)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('parses durations of at least a minute', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10s')).toBeNull();
    expect(parseDuration('daily')).toBeNull();
  });

  it('takes --consolidate-every and --archive on the HTTP server only', () => {
    expect(parseCommandLine(['--http', '--consolidate-every', '24h', '--archive', 'a.jsonl'])).toEqual({
      command: 'serve',
      options: { transport: 'http', consolidateEvery: 86_400_000, archivePath: 'a.jsonl' },
    });
    expect(() => parseCommandLine(['--consolidate-every', '24h'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--http', '--consolidate-every', 'often'])).toThrow(
      /--consolidate-every must be a duration of at least a minute such as 24h, 30m or 7d \(got "often"\)/,
    );
  });

  it('applies consolidation on each tick, never two at once, and stops', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const archive = memoryArchive();
    const memory = new Memory({
      store: inMemoryStore(),
      embedder: hashEmbedder({ dimensions: 64 }),
      logger: false,
      consolidation: { archive },
    });
    const faded = (
      await memory.add({ content: 'Opened the settings page once', importance: 0.1, createdAt: new Date(Date.now() - 400 * 86_400_000) })
    ).memory;
    const logs: string[] = [];
    const consolidate = vi.spyOn(memory, 'consolidate');
    const stop = scheduleConsolidation(new LazyMemory(memory), 60_000, (message) => logs.push(message));
    expect(consolidate).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60_000);
    await vi.waitFor(() => expect(logs).toHaveLength(1));
    expect(consolidate).toHaveBeenCalledWith({ dryRun: false });
    expect(logs[0]).toMatch(/^consolidation: 1 scanned, 1 forgotten \(archived to memory\), 0 patterns, in \d+ ms$/);
    expect(await memory.get(faded.id)).toBeNull();
    stop();
    vi.advanceTimersByTime(600_000);
    expect(consolidate).toHaveBeenCalledTimes(1);
    await memory.close();
  });

  it('refuses a schedule shorter than a minute', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false });
    await expect(startMcpServer({ transport: 'http', port: 0, memory, consolidateEvery: 1000, log: () => {} })).rejects.toThrow(
      /consolidateEvery: must be at least one minute/,
    );
    await memory.close();
  });
});
