import { ValidationError } from '@engram/core';

/** The tenant served without keys, on loopback. */
export const LOCAL_TENANT = 'local';

const TENANT_NAME = /^[a-z0-9][a-z0-9_]{0,47}$/;

/**
 * Tenant names become file names and SQL schema names, so they are restricted to lower-case
 * letters, digits and `_` (at most 48 characters, starting with a letter or digit).
 */
export function checkTenantName(name: unknown, field = 'tenant'): string {
  if (typeof name !== 'string' || !TENANT_NAME.test(name)) {
    throw new ValidationError([
      {
        field,
        message: `must be lower-case letters, digits and _ (at most 48 characters, not starting with _), got ${JSON.stringify(name)}`,
      },
    ]);
  }
  return name;
}
