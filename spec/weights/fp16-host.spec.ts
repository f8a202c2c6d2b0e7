/**
 * A float16 store's weights stay halves in the JS heap (readStore keepHalf, loadModel) and are widened as the model
 * uploads them. Widening is exact: every half equals its IEEE value computed in float64 here, and a model built from
 * the halves — resident, or streamed layer by layer through one reused buffer — gives bit for bit the outputs of
 * the same store widened at read (the path before halves were kept).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'fs';
import * as path from 'path';
import { useBackend } from '../../lib/backend';
import { createModel, loadModel, namedOutputs } from '../../lib/models';
import { DeviceWeights } from '../../lib/models/device-weights';
import { convert } from '../../lib/weights/convert';
import { readStore } from '../../lib/weights/store';
import { SIMD_CHUNK, simdHalfWidener } from '../../lib/weights/half-simd';
import { HalfTensor, HostTensor, float16ToFloat32, hostFloats } from '../../lib/weights/tensor';
import { mulberry32 } from '../../lib/random';
import { caseInputs, readCase } from '../helpers/golden';
import { cleanupTmp, errorOf, firstBitDiff, goldenDir, halfValue, tmpDir } from './helpers';

afterAll(cleanupTmp);

async function float16Store(m: string): Promise<string> {
  const out = path.join(tmpDir(), 'store');
  await convert(goldenDir(m), out, { dtype: 'float16' });
  return out;
}

/** Outputs whose bits differ, by name (empty when every output is bit-identical). */
function bitMismatches(got: Map<string, HostTensor>, want: Map<string, HostTensor>): Record<string, number> {
  const bad: Record<string, number> = {};
  for (const [name, w] of want) {
    const i = firstBitDiff(got.get(name)?.data ?? new Float32Array(0), w.data);
    if (i >= 0) bad[name] = i;
  }
  return bad;
}

describe('float16 host weights', () => {
  it('keepHalf keeps every weight as halves, widened exactly (float64 IEEE values) and as readStore widens them', async () => {
    const store = await float16Store('wav2vec2_base_tiny');
    const halves = readStore(store, { keepHalf: true }).weights;
    const widened = readStore(store).weights;
    expect([...halves.keys()]).toEqual([...widened.keys()]);
    for (const [k, t] of halves) {
      if (!('half' in t)) throw new Error(`${k} is not kept as halves`);
      const want = widened.get(k)!;
      expect([k, t.shape]).toEqual([k, want.shape]);
      const got = hostFloats(t);
      expect([k, firstBitDiff(got, want.data)]).toEqual([k, -1]);
      expect([k, got.findIndex((x, i) => x !== halfValue(t.half[i]))]).toEqual([k, -1]);
    }
    // Into a longer reused buffer: the prefix, the same values.
    const [k, t] = [...halves].find(([, w]) => 'half' in w && w.half.length > 100)!;
    const into = new Float32Array(10_000).fill(7);
    const got = float16ToFloat32((t as HalfTensor).half, into);
    expect([got.buffer === into.buffer, got.length, firstBitDiff(got, widened.get(k)!.data), into[got.length]]).toEqual([true, got.length, -1, 7]);
  });

  it('widening (WebAssembly SIMD here, table for short inputs) gives every half its float64 IEEE value', () => {
    const table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfValue(h);
    expect(simdHalfWidener(new Uint32Array(table.buffer))).not.toBeNull(); // Node 20 has wasm SIMD: the fast path is the one tested
    const same = (got: Float32Array, halves: Uint16Array) =>
      got.findIndex((x, i) => !Object.is(x, halfValue(halves[i])) && !(isNaN(x) && isNaN(halfValue(halves[i]))));
    const all = new Uint16Array(65536).map((_, h) => h);
    expect(same(float16ToFloat32(all), all)).toBe(-1);
    // Across SIMD_CHUNK boundaries, a length that is no multiple of 8, into an offset view of a longer buffer; and short.
    const rand = mulberry32(5);
    const long = Uint16Array.from({ length: 2 * SIMD_CHUNK + 13 }, () => Math.floor(rand() * 65536));
    const into = new Float32Array(long.length + 9);
    expect(same(float16ToFloat32(long, into.subarray(3)), long)).toBe(-1);
    expect([into[0], into[1], into[2], into[long.length + 3]]).toEqual([0, 0, 0, 0]);
    expect(same(float16ToFloat32(long.subarray(0, 5)), long.subarray(0, 5))).toBe(-1);
    // A module whose output disagreed with the table would not be used.
    const wrong = new Uint32Array(table.buffer.slice(0));
    wrong[0x3c00] ^= 1;
    expect(simdHalfWidener(wrong)).toBeNull();
  });

  it('a non-finite half is refused with the message float32 decoding gives, naming the weight and index', async () => {
    const store = await float16Store('wav2vec2_base_tiny');
    const shard = path.join(store, 'group1-shard1of1.bin');
    const bytes = fs.readFileSync(shard);
    bytes.writeUInt16LE(0xfc00, 2 * 5); // −Inf as the first weight's sixth value
    fs.writeFileSync(shard, bytes);
    const want = errorOf(() => readStore(store));
    expect(want).toMatch(/: non-finite value -Infinity at index 5$/);
    expect(errorOf(() => readStore(store, { keepHalf: true }))).toBe(want);
  });

  it('a float32 store is read as float32 either way', async () => {
    const out = path.join(tmpDir(), 'f32');
    await convert(goldenDir('wav2vec2_base_tiny'), out, { dtype: 'float32' });
    for (const t of readStore(out, { keepHalf: true }).weights.values()) expect('data' in t).toBe(true);
  });

  it.each(['wav2vec2_base_tiny', 'wavlm_large_tiny'])(
    '%s on wasm: the model from halves (resident and streamed) gives the widened-at-read outputs bit for bit',
    async (m) => {
      await useBackend('wasm');
      const store = await float16Store(m);
      const c = readCase(m, 'batch_padded');
      const { inputValues, attentionMask } = caseInputs(c);
      const run = (model: ReturnType<typeof loadModel>) => {
        const out = model.forward(inputValues, { attentionMask, outputs: { attentionEntropy: true } });
        const named = namedOutputs(out);
        tf.dispose(out as unknown as tf.TensorContainer);
        model.dispose();
        return named;
      };
      const before = tf.memory();
      const want = run(createModel(readStore(store), { streamWeights: false }));
      const resident = loadModel(store, { streamWeights: false });
      expect(resident.streamsWeights).toBe(false);
      expect(bitMismatches(run(resident), want)).toEqual({});
      const streamed = loadModel(store, { streamWeights: true });
      expect(streamed.streamsWeights).toBe(true);
      expect(bitMismatches(run(streamed), want)).toEqual({});
      expect([tf.memory().numTensors, tf.memory().numBytes]).toEqual([before.numTensors, before.numBytes]); // every upload freed
      tf.dispose([inputValues, attentionMask]);
    },
  );

  it('on cpu (which keeps the arrays it is given) every upload has its own values', async () => {
    await useBackend('cpu');
    const store = await float16Store('wav2vec2_base_tiny');
    const widened = readStore(store).weights;
    const weights = new DeviceWeights(readStore(store, { keepHalf: true }).weights, { streamLayers: false });
    for (const [k, t] of widened) {
      if (/(_proj|_dense|projection)\.weight$/.test(k)) continue; // packed for the GEMM on wasm only; cpu keeps the layout
      expect([k, firstBitDiff(weights.get(k).dataSync() as Float32Array, t.data)]).toEqual([k, -1]);
    }
    weights.dispose();
  });
});
