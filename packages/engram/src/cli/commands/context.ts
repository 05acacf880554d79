import { type Command, Option } from 'commander';
import { toJsonRecord } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { addFilterOptions, type FilterFlags, filterFrom, parsePositiveInteger } from '../options.js';

interface ContextFlags extends FilterFlags {
  budget: number;
  limit?: number;
  mode?: 'hybrid' | 'vector' | 'lexical';
}

export function registerContext(program: Command, state: CliState): void {
  const command = program
    .command('context')
    .description('Print the best memories for a query as a prompt-ready block that fits a token budget.')
    .argument('<query...>', 'What the prompt is about (words are joined with spaces)')
    .option('-b, --budget <tokens>', 'Token budget (about 4 characters a token)', parsePositiveInteger, 1000)
    .option('-n, --limit <n>', 'Candidates to consider (default 50)', parsePositiveInteger)
    .addOption(new Option('--mode <mode>', 'Which retrieval to use').choices(['hybrid', 'vector', 'lexical']));
  addFilterOptions(command, { time: true, where: true });
  command.addHelpText(
    'after',
    `
Examples:
  $ engram context "how do we deploy the billing service" --budget 500
  $ engram context "open bugs in the parser" --types error --time "last month" > context.txt
  $ engram context refactoring --user alice --json | jq -r .text`,
  );
  command.action(async (words: string[], flags: ContextFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    const query = words.join(' ');
    const context = await invocation.withMemory('read', (memory) =>
      memory.context({
        query,
        tokenBudget: flags.budget,
        ...filterFrom(flags, memory.ontology),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        ...(flags.mode !== undefined ? { mode: flags.mode } : {}),
      }),
    );
    await invocation.result(
      {
        query,
        text: context.text,
        tokens: context.tokens,
        hits: context.hits.map((hit) => ({ score: hit.score, memory: toJsonRecord(hit.memory) })),
      },
      () => {
        if (!context.text) {
          invocation.note('no matching memories');
          return [];
        }
        return context.text;
      },
    );
  });
}
