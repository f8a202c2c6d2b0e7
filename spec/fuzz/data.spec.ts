/** The bounded fuzz run of the data parsers (spec/fuzz/targets.ts, group "data"); see spec/fuzz/harness.ts. */
import { describeFuzz } from './harness';
import { TARGETS } from './targets';

describeFuzz('data', TARGETS);
