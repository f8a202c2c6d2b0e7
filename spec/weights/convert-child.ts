/** Child-process entry for convert-stream.spec.ts: converts argv[2] into argv[3] as argv[4], prints its RSS before and its peak. */
import { peakRssBytes } from '../../lib/bench/rss';
import { convert } from '../../lib/weights/convert';
import { StoreDtype } from '../../lib/weights/store';

const rssBefore = process.memoryUsage().rss;
convert(process.argv[2], process.argv[3], { dtype: process.argv[4] as StoreDtype }).then(
  () => process.stdout.write(JSON.stringify({ rssBefore, maxRss: peakRssBytes() })),
  (e) => {
    process.stderr.write(String((e as Error)?.stack ?? e));
    process.exitCode = 1;
  },
);
