import { describe, expect, it } from 'vitest';
import { checkTenantName } from '../auth/tenant-name.js';
import { defaultKeyFile, tenantStoreLocation } from './tenant-stores.js';

describe('tenant store locations', () => {
  it('gives tenant local the base store and every other tenant its own file or schema', () => {
    const sqlite = { kind: 'sqlite' as const, path: '/data/.engram/memory.db' };
    expect(tenantStoreLocation(sqlite, 'local')).toEqual(sqlite);
    expect(tenantStoreLocation(sqlite, 'team_a')).toEqual({ kind: 'sqlite', path: '/data/.engram/memory.tenants/team_a.db' });
    const postgres = { kind: 'postgres' as const, connectionString: 'postgres://db/engram' };
    expect(tenantStoreLocation(postgres, 'local')).toEqual({ ...postgres, schema: 'engram' });
    expect(tenantStoreLocation(postgres, 'team_a')).toEqual({ ...postgres, schema: 'engram_t_team_a' });
    expect(defaultKeyFile(sqlite)).toBe('/data/.engram/memory.keys.json');
    expect(defaultKeyFile(postgres)).toBeUndefined();
  });

  it('accepts only names that are safe as file and schema names', () => {
    for (const name of ['a', 'team_a', '0team', 'x'.repeat(48)]) expect(checkTenantName(name)).toBe(name);
    for (const name of ['', '_a', 'Team', 'team-a', '../etc', 'a b', 'x'.repeat(49), 42]) {
      expect(() => checkTenantName(name)).toThrow(/lower-case letters, digits and _/);
    }
  });
});
