import * as path from 'path';
test('umd', async () => {
  const dir = path.dirname(require.resolve('mpg123-decoder'));
  const m = require(path.join(dir, 'dist/mpg123-decoder.min.js'));
  const d = new m.MPEGDecoder(); await d.ready; d.free();
  const fdir = path.dirname(require.resolve('@wasm-audio-decoders/flac'));
  const f = require(path.join(fdir, 'dist/flac-decoder.min.js'));
  const fd = new f.FLACDecoder(); await fd.ready; fd.free();
});
test('esm', async () => {
  const m = require('mpg123-decoder');
  expect(m.MPEGDecoder).toBeDefined();
});
