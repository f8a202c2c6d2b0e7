/**
 * `wavprobe detect --plot`: one file's waveform above its frame-level evidence c_t (lib/detector.ts explains what
 * c_t is and is not), the decision threshold on the same logit scale, and the frames on the spoof side of it shaded.
 */
import * as path from 'path';
import type { Detection } from '../detector';
import { waveformChart } from './inside';
import { CONFIG, PlotSpec, SCHEMA, writePlot } from './plots';

const SERIES = { frame: 'c_t, a frame’s share of the logit', threshold: 'decision threshold', spoof: 'spoof side of the threshold' };

/** Waveform over the timeline of a detection made with `timeline: true`. */
export function timelineChart(samples: ArrayLike<number>, sampleRate: number, d: Detection): PlotSpec {
  const timeline = d.timeline;
  if (!timeline?.length) throw new RangeError('timelineChart: the detection has no timeline (detect with timeline: true)');
  const hop = timeline.length > 1 && timeline[1].window === timeline[0].window ? timeline[1].start_s - timeline[0].start_s : 0;
  const span = timeline[0].end_s - timeline[0].start_s;
  const theta = d.threshold_logit ?? null;
  // A point per frame at its centre; shading one hop wide, so neighbouring frames' overlapping spans do not stack.
  const frames = timeline.map((f) => ({ ...f, t: (f.start_s + f.end_s) / 2 }));
  const spoofSide = theta === null ? [] : frames.filter((f) => (d.spoof_above === false ? f.logit <= theta : f.logit >= theta));
  const half = (hop || span) / 2;
  const shaded = spoofSide.map((f) => ({ t0: f.t - half, t1: f.t + half, lo: theta, hi: f.logit }));
  const end = Math.max(d.duration_s, timeline[timeline.length - 1].end_s);
  const x = { field: 't', type: 'quantitative' as const, title: 'time (s)', scale: { domain: [0, end], nice: false } };
  const color = {
    scale: { domain: Object.values(SERIES), range: ['#4c78a8', '#e45756', '#f58518'] },
    legend: { title: null, symbolType: 'stroke', symbolStrokeWidth: 4, symbolOpacity: 1 },
  };
  const hopSamples = Math.round((hop || span) * sampleRate);
  const wave = waveformChart(samples, sampleRate, hopSamples, Math.max(1, Math.floor(samples.length / hopSamples))) as unknown as Record<
    string,
    unknown
  >;
  delete wave.$schema; // a top-level spec's keys; this one is a panel
  delete wave.config;
  wave.title = { text: 'Waveform', subtitle: 'red lines: frame starts (thinned when dense)' };
  const threshold =
    theta === null
      ? 'no threshold (every file decides the same way)'
      : `threshold ${theta.toFixed(3)} (spoof ${d.spoof_above === false ? 'below' : 'at or above'})`;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: `P(spoof) ${d.p_spoof.toFixed(4)} → ${d.decision}: ${path.basename(d.file)}`,
      subtitle: `mean of c_t = logit ${d.logit.toFixed(4)}; ${threshold}; ${d.windows === 1 ? '1 window' : `${d.windows} windows, a line each`}, ${frames.length} frames`,
    },
    vconcat: [
      { ...wave, width: 640, height: 120 },
      {
        width: 640,
        height: 240,
        title: { text: 'Frame-level evidence (head logit scale; not a per-frame detector)', fontSize: 12 },
        layer: [
          {
            data: { values: shaded },
            mark: { type: 'rect', opacity: 0.35 },
            encoding: {
              x: { ...x, field: 't0' },
              x2: { field: 't1' },
              y: { field: 'lo', type: 'quantitative' },
              y2: { field: 'hi' },
              color: { ...color, datum: SERIES.spoof },
            },
          },
          {
            data: { values: frames },
            mark: { type: 'line', strokeWidth: 1.5, point: frames.length <= 60 },
            encoding: {
              x,
              y: { field: 'logit', type: 'quantitative', title: 'c_t (logit)' },
              detail: { field: 'window', type: 'nominal' },
              color: { ...color, datum: SERIES.frame },
            },
          },
          ...(theta === null
            ? []
            : [
                {
                  data: { values: [{ y: theta }] },
                  mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
                  encoding: { y: { field: 'y', type: 'quantitative' }, color: { ...color, datum: SERIES.threshold } },
                },
              ]),
        ],
      },
    ],
  } as PlotSpec;
}

/** Writes `<out>` without its extension as PNG + SVG; returns their paths. */
export function writeTimelinePlot(out: string, samples: ArrayLike<number>, sampleRate: number, d: Detection): Promise<{ svg: string; png: string }> {
  const ext = path.extname(out);
  return writePlot(
    path.dirname(out),
    path.basename(out, ext.toLowerCase() === '.png' || ext.toLowerCase() === '.svg' ? ext : ''),
    timelineChart(samples, sampleRate, d),
  );
}
