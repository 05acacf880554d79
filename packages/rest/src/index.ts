export type { ApiKeysOptions, Authenticator, Principal } from './auth/api-keys.js';
export { apiKeys, mintKey, parseApiKeysVariable, SCRYPT_PARAMETERS } from './auth/api-keys.js';
export type { StoredKey } from './auth/key-file.js';
export { KeyFile } from './auth/key-file.js';
export type { TenantMemoryFactory } from './auth/tenant-memories.js';
export { TenantMemories } from './auth/tenant-memories.js';
export { checkTenantName, LOCAL_TENANT } from './auth/tenant-name.js';
export type { ServerCommandLineIo } from './cli/run-server-command-line.js';
export { runServerCommandLine, SERVER_USAGE } from './cli/run-server-command-line.js';
export type {
  ScheduledMemory,
  TenantConsolidationSchedule,
  TenantConsolidationScheduleOptions,
} from './consolidation/consolidation-schedule.js';
export { scheduleTenantConsolidation } from './consolidation/consolidation-schedule.js';
export type { EngramApp, EngramAppOptions } from './create-engram-app.js';
export {
  createEngramApp,
  DEFAULT_BODY_LIMIT,
  DEFAULT_IMPORT_BODY_LIMIT,
  DEFAULT_RATE_LIMIT,
  openApiDocument,
} from './create-engram-app.js';
export type { ErrorBody } from './errors.js';
export type { EventFilter, EventHubOptions, StreamEvent, StreamEventName } from './events/event-hubs.js';
export { EventHubs, TenantEventHub } from './events/event-hubs.js';
export { hostnameOf, isLoopback } from './server/loopback.js';
export type { RateLimitOptions } from './server/rate-limiter.js';
export { RateLimiter } from './server/rate-limiter.js';
export type { ServeOptions, ServerHandle } from './server/serve.js';
export { consolidationTenants, DEFAULT_HOST, DEFAULT_PORT, serve } from './server/serve.js';
export type { StoreLocation, TenantMemoryFactoryOptions } from './server/tenant-stores.js';
export { defaultKeyFile, tenantArchivePath, tenantMemoryFactory, tenantStoreLocation } from './server/tenant-stores.js';
export { VERSION } from './version.js';
