import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashEmbedder } from './hash-embedder.js';

// Vectors stored by earlier versions must stay comparable with new ones: `hash-v1` is a fixed
// function. These digests were taken from the first implementation (feature strings hashed one
// by one); any change to the output fails here.
const texts = [
  '',
  '!!!',
  'a',
  'the the the the',
  'Naïve café — crème brûlée',
  '東京 office opens at nine',
  "Caroline's dog isn't here",
  'database database database migration',
  'I went to a LGBTQ support group yesterday and it was so powerful.',
  ...Array.from({ length: 150 }, (_, index) => {
    const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'qu'];
    const word = (n: number) => `${syllables[n % 10]}${syllables[(n * 7 + 3) % 10]}${n % 3 === 0 ? syllables[(n * 3) % 10] : ''}`;
    return Array.from({ length: 4 + (index % 17) }, (_, position) => word(index * 31 + position * position)).join(' ');
  }),
];

async function digest(dimensions: number): Promise<string> {
  const hash = createHash('sha256');
  for (const vector of await hashEmbedder({ dimensions }).embed(texts)) {
    const floats = Float32Array.from(vector);
    hash.update(Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength));
  }
  return hash.digest('hex');
}

describe('hashEmbedder output is stable', () => {
  it('384 and 16 dimensions', async () => {
    expect({ 384: await digest(384), 16: await digest(16) }).toEqual({
      384: '6a10412daa9a9d3d846149d47bfee8b8f39a4e6cd5850f643983497bb91ae457',
      16: '65ee43deb997901d18e7a2628f88e7b48c4e3abe23afd24279fefee9c57f057e',
    });
  });
});
