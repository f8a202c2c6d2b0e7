/** The bounded fuzz run of the audio parsers (spec/fuzz/targets.ts, group "audio"); see spec/fuzz/harness.ts. */
import { describeFuzz } from './harness';
import { TARGETS } from './targets';

describeFuzz('audio', TARGETS);
