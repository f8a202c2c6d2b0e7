import * as fs from 'fs';
import * as path from 'path';
import { bfloat16ToFloat32, float16ToFloat32, float32ToFloat16 } from '../../lib/weights/tensor';
import { WEIGHT_FIXTURES, bits } from './helpers';

/** numpy's float16 / bfloat16 conversions of float32 values, written by tools/make_weight_fixtures.py. */
const cases = JSON.parse(fs.readFileSync(path.join(WEIGHT_FIXTURES, 'float16_cases.json'), 'utf8')) as Record<string, number[]>;
const f32 = new Float32Array(new Uint32Array(cases.f32_bits).buffer);

describe('half-precision conversions (against numpy)', () => {
  it('float32 → float16 rounds to nearest even like numpy (ties, subnormals, overflow, NaN)', () => {
    const got = float32ToFloat16(f32);
    const want = cases.f16_bits;
    const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    got.forEach((h, i) => {
      if (isNaN16(want[i])) expect(isNaN16(h)).toBe(true);
      else expect([i, h]).toEqual([i, want[i]]);
    });
  });

  it('float16 → float32 is exact', () => {
    const got = bits(float16ToFloat32(new Uint16Array(cases.f16_bits)));
    const want = cases.f16_as_f32_bits;
    got.forEach((b, i) => {
      if (Number.isNaN(f32[i])) expect(Number.isNaN(new Float32Array(new Uint32Array([b]).buffer)[0])).toBe(true);
      else expect([i, b]).toEqual([i, want[i]]);
    });
  });

  it('bfloat16 → float32 is exact', () => {
    expect([...bits(bfloat16ToFloat32(new Uint16Array(cases.bf16_bits)))]).toEqual(cases.bf16_as_f32_bits);
  });
});
