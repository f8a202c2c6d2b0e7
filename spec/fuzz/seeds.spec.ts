/**
 * The seed corpus itself: every seed keeps the invariant unmutated, and every target has seeds its parser accepts
 * (a corpus that is refused whole would only ever fuzz the parser's first check).
 */
import { checkInput, makeScratch } from './harness';
import { TARGETS } from './targets';

describe('fuzz seeds', () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))('%s: every seed keeps the invariant, and some parse to a value', async (_name, t) => {
    const scratch = makeScratch(t.name);
    try {
      const outcomes: string[] = [];
      for (const seed of t.seeds()) {
        const input = seed.wrap ? seed.wrap(seed.bytes) : seed.bytes;
        outcomes.push(`${seed.name}: ${await checkInput(t, input, scratch)}`);
      }
      expect(outcomes.filter((o) => o.endsWith(': value'))).not.toEqual([]);
    } finally {
      scratch.remove();
    }
  });
});
