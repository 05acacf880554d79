import type { Command } from 'commander';
import { type CliState, Invocation } from '../invocation.js';
import { progressBar } from '../progress.js';

/**
 * `engram keys rotate-encryption`. The `keys` command may also be registered by another file
 * (API keys of the REST server): this one finds it or creates it, and adds its subcommand.
 */
export function registerKeysEncryption(program: Command, state: CliState): void {
  const keys = program.commands.find((command) => command.name() === 'keys') ?? program.command('keys').description('Manage keys.');
  keys
    .command('rotate-encryption')
    .description('Re-wrap every sensitive memory under the current ENGRAM_ENCRYPTION_KEY (older keys in ENGRAM_ENCRYPTION_PREVIOUS_KEYS).')
    .addHelpText(
      'after',
      `
Only the data key of each memory is re-encrypted, so it is fast. History entries keep their
original wrapping: keep the old key while you need them, or erase them (engram forget).

Example:
  $ ENGRAM_ENCRYPTION_KEY=$(cat new.key) ENGRAM_ENCRYPTION_PREVIOUS_KEYS=$(cat old.key) engram keys rotate-encryption`,
    )
    .action(async (_flags: unknown, self: Command) => {
      const invocation = new Invocation(state, self);
      const bar = progressBar(invocation.stderr, 'rotate', invocation.quiet);
      const result = await invocation.withMemory('read', (memory) =>
        memory.rotateEncryption({ onProgress: ({ done, total }) => bar.update(done, total) }),
      );
      bar.end();
      await invocation.result(result, () => [
        `Re-wrapped ${result.rewrapped} sensitive ${result.rewrapped === 1 ? 'memory' : 'memories'} under key ${result.keyId}.`,
      ]);
    });
}
