// The seeded PRNG the library uses (core's), so test data comes from the same sequence.
export { seededRandom } from '@engram/core';
