import { type Command, Option } from 'commander';
import { formatExplanation, formatRows, formatScore, memoryRow, toJsonRecord } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { addFilterOptions, type FilterFlags, filterFrom, parseNumber, parsePositiveInteger } from '../options.js';

interface SearchFlags extends FilterFlags {
  limit?: number;
  mode?: 'hybrid' | 'vector' | 'lexical';
  minScore?: number;
  explain?: boolean;
}

export function registerSearch(program: Command, state: CliState): void {
  const command = program
    .command('search')
    .description('Find the memories most relevant to a query (hybrid lexical + vector by default), best first.')
    .argument('<query...>', 'What to look for (words are joined with spaces)')
    .option('-n, --limit <n>', 'How many hits at most (default 10)', parsePositiveInteger)
    .addOption(new Option('--mode <mode>', 'Which retrieval to use').choices(['hybrid', 'vector', 'lexical']))
    .option('--min-score <0..1>', 'Drop hits scoring below this', parseNumber)
    .option('--explain', 'Show how each score is made (lexical, vector, recency, importance)');
  addFilterOptions(command, { time: true, where: true });
  command.addHelpText(
    'after',
    `
Output: one hit per line: score (0–1, 3 decimals), id, type/subtype, creation date, content
(cut to the terminal width on a terminal; whole when piped).

Examples:
  $ engram search flaky tests in CI
  $ engram search "database timeout" --types error --time "last week" --limit 5
  $ engram search deploy --tags prod,eu --tag-match all --user alice
  $ engram search retries --where '{"service": "billing", "priority": {"gte": 3}}' --explain
  $ engram search "cache invalidation" --mode lexical --json | jq '.hits[].memory.id'`,
  );
  command.action(async (words: string[], flags: SearchFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    const query = words.join(' ');
    const hits = await invocation.withMemory('read', (memory) =>
      memory.search(query, {
        ...filterFrom(flags, memory.ontology),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        ...(flags.mode !== undefined ? { mode: flags.mode } : {}),
        ...(flags.minScore !== undefined ? { minScore: flags.minScore } : {}),
        ...(flags.explain ? { explain: true } : {}),
      }),
    );
    await invocation.result(
      {
        query,
        hits: hits.map((hit) => ({
          score: hit.score,
          memory: toJsonRecord(hit.memory),
          ...(hit.explanation ? { explanation: hit.explanation } : {}),
        })),
      },
      () => {
        if (hits.length === 0) {
          invocation.note('no matching memories');
          return [];
        }
        const rows = formatRows(
          hits.map((hit) => {
            const row = memoryRow(hit.memory);
            return { cells: [formatScore(hit.score), ...row.cells], content: row.content };
          }),
          invocation.width,
        );
        return rows.flatMap((row, index) => {
          const explanation = hits[index]?.explanation;
          return explanation ? [row, `       ${formatExplanation(explanation)}`] : [row];
        });
      },
    );
  });
}
