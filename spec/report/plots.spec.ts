import {
  detCurve,
  layerwiseChart,
  probit,
  rasterize,
  reliabilityDiagram,
  renderPng,
  renderSvg,
  selectivePredictionCurve,
} from '../../lib/report/plots';
import { gaussian } from '../helpers/probe';

const g = gaussian(11);
const labels = Uint8Array.from({ length: 400 }, (_, i) => Number(i % 2 === 0));
const probs = Float64Array.from(labels, (y) => 1 / (1 + Math.exp(-(1.5 * g() + (y ? 1 : -1)))));
const sets = [
  { name: 'uncalibrated', probs, labels },
  { name: 'calibrated', probs: probs.map((p) => 0.25 + p / 2), labels },
];
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
const pngSize = (png: Buffer) => ({ magic: png.subarray(1, 4).toString(), width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

describe('plots', () => {
  it('reliability diagram: one panel per set, titled with its ECE', async () => {
    const svg = await renderSvg(reliabilityDiagram(sets));
    const t = texts(svg);
    expect(t).toContain('Reliability diagram');
    expect(t.filter((s) => /^(uncalibrated|calibrated): ECE \d+\.\d\d%$/.test(s))).toHaveLength(2);
    expect(t).toContain('predicted P(spoof)');
    expect(t).toContain('observed fraction spoof');
  });

  it('DET curve: normal-deviate axes labelled in percent, EER marked per set', async () => {
    const t = texts(await renderSvg(detCurve(sets)));
    for (const label of ['0.1', '0.5', '2', '5', '10', '20', '40', '60', '80', '95', '99', '99.9'])
      expect(t.filter((s) => s === label)).toHaveLength(2);
    expect(t.filter((s) => /^EER \d+\.\d\d%$/.test(s))).toHaveLength(2);
    expect(t).toContain('bona fide flagged as spoof (%)');
    expect(t).toContain('spoof missed (%)');
  });

  it('selective-prediction curve and layer-wise chart', async () => {
    expect(texts(await renderSvg(selectivePredictionCurve(sets)))).toEqual(
      expect.arrayContaining(['fraction of decisions kept', 'accuracy on kept decisions', 'calibrated']),
    );
    const rows = [0, 1, 2, 3, 4].map((layer) => ({ layer, eer: [0.3, 0.2, 0.05, 0.1, 0.2][layer], ece: 0.01 * layer }));
    const t = texts(await renderSvg(layerwiseChart(rows)));
    expect(t).toEqual(expect.arrayContaining(['lowest EER: layer 2 (5.00%)', 'EER (%)', 'ECE (%)', '5.00%']));
  });

  it('renders PNG at twice the SVG size, with the text drawn (fonts found)', async () => {
    const svg = await renderSvg(layerwiseChart([{ layer: 0, eer: 0.1, ece: 0.02 }]));
    const w = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    const size = pngSize(renderPng(svg));
    expect(size).toMatchObject({ magic: 'PNG', width: 2 * w });
    // A title alone: dark pixels appear only if a font was found.
    const img = rasterize(
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="5" y="30" font-family="Helvetica, Arial, DejaVu Sans, sans-serif" font-size="20">EER 5%</text></svg>',
    );
    const px = img.pixels;
    let dark = 0;
    for (let i = 0; i < px.length; i += 4) dark += Number(px[i] < 128);
    expect(dark).toBeGreaterThan(100);
  });

  it('probit inverts the normal CDF', () => {
    expect(probit(0.5)).toBeCloseTo(0, 9);
    expect(probit(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(probit(0.001)).toBeCloseTo(-3.090232306167813, 8);
    expect(probit(0)).toBe(-Infinity);
  });
});
