/**
 * A small, fast, seeded PRNG (mulberry32, uniform in [0, 1)). Whatever uses it for something
 * stored or compared (the SQLite vector codes' rotation, consolidation's projections, test data)
 * gets the same sequence for the same seed everywhere.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
