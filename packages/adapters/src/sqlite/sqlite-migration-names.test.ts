import { describe, expect, it } from 'vitest';
import { migrationNames } from './sqlite-migration-names.js';
import { migrations } from './sqlite-migrations.js';

describe('migration names', () => {
  it('list exactly the migrations, in order (a store opens without Kysely when all are applied)', () => {
    expect(migrationNames).toEqual(Object.keys(migrations));
    expect([...migrationNames].sort()).toEqual(migrationNames);
  });
});
