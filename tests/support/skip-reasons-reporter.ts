import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * Ends every run with the reason for each skipped test, grouped by reason, so that a summary's
 * "N skipped" never needs a rerun with --reporter=verbose. A reason is the note given to
 * `context.skip(note)`, else the `(skipped: reason)` in the name of the test or a suite above it
 * (the convention of the conformance suites and of tests/).
 */
export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const groups = new Map<string, { count: number; files: Set<string> }>();
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        const result = testCase.result();
        if (result.state !== 'skipped') continue;
        const reason = reasonOf(testCase, result.note);
        const group = groups.get(reason) ?? { count: 0, files: new Set<string>() };
        group.count++;
        group.files.add(testModule.relativeModuleId);
        groups.set(reason, group);
      }
    }
    if (groups.size === 0) return;
    const total = [...groups.values()].reduce((sum, group) => sum + group.count, 0);
    const lines = [`\n Skipped tests (${total}), by reason:`];
    for (const [reason, group] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
      lines.push(`   ${String(group.count).padStart(4)}  ${reason}  [${[...group.files].sort().join(', ')}]`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

function reasonOf(testCase: TestCase, note: string | undefined): string {
  if (note) return note;
  if (testCase.options.mode === 'todo') return 'todo';
  interface Named {
    name: string;
    type?: string;
    parent?: Named;
  }
  let entity: Named | undefined = testCase as unknown as Named;
  while (entity) {
    const match = /\(skipped: (.+)\)\s*$/.exec(entity.name);
    if (match?.[1]) return match[1];
    const parent: Named | undefined = entity.parent;
    entity = parent?.type === 'suite' ? parent : undefined;
  }
  return 'no reason given (name it: context.skip(reason), or "(skipped: reason)" in the suite name)';
}
