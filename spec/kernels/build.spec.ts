/** The committed wasm modules are a build of the committed kernels.c (tools/build-kernels.sh records its sha256). */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { KERNELS_COMPILER, KERNELS_SOURCE_SHA256 } from '../../lib/kernels/binaries';

it('lib/kernels/binaries.ts was built from the current kernels.c (else: npm run build:kernels)', () => {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'lib', 'kernels', 'kernels.c'));
  expect(crypto.createHash('sha256').update(source).digest('hex')).toBe(KERNELS_SOURCE_SHA256);
  expect(KERNELS_COMPILER).toMatch(/clang version (1[4-9]|[2-9]\d)\./);
});
