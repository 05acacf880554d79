// The one Memory both agent processes open: a SQLite file (default), or Postgres when
// ENGRAM_PG_URL is set. Each process opens its own connection; the store does the sharing.
import { hashEmbedder, Memory } from 'engram';

export async function openSharedMemory() {
  // Both processes must embed the same way (the store records the embedder); a real deployment
  // uses the default embedder everywhere.
  const embedder = hashEmbedder();
  if (process.env.ENGRAM_PG_URL) {
    const { postgresStore } = await import('@engram/adapters/postgres');
    const store = postgresStore({ connectionString: process.env.ENGRAM_PG_URL, schema: 'engram_multi_agent' });
    return new Memory({ store, embedder });
  }
  return new Memory({ path: process.env.MULTI_AGENT_DB, embedder });
}

export { teamScope } from './team.mjs';
