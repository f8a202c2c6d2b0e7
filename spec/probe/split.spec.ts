import { stratifiedSplit } from '../../lib/probe/split';

describe('stratified split', () => {
  const labels = Uint8Array.from({ length: 103 }, (_, i) => Number(i % 4 === 0)); // 26 spoof, 77 bona fide

  it('holds out the fraction of each class, disjoint, reproducible for a seed', () => {
    const a = stratifiedSplit(labels, 0.2, 5);
    const held = Array.from(a.held);
    expect(held.filter((i) => labels[i]).length).toBe(5); // round(0.2 · 26)
    expect(held.filter((i) => !labels[i]).length).toBe(15); // round(0.2 · 77)
    expect(a.train.length + a.held.length).toBe(103);
    expect(new Set([...a.train, ...a.held]).size).toBe(103);
    expect(stratifiedSplit(labels, 0.2, 5)).toEqual(a);
    expect(Array.from(stratifiedSplit(labels, 0.2, 6).held)).not.toEqual(held);
  });

  it('rejects fractions outside (0, 1)', () => {
    expect(() => stratifiedSplit(labels, 1, 0)).toThrow(/strictly between 0 and 1/);
    expect(() => stratifiedSplit(labels, 0, 0)).toThrow(/strictly between 0 and 1/);
  });
});
