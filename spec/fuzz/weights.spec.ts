/** The bounded fuzz run of the weights parsers (spec/fuzz/targets.ts, group "weights"); see spec/fuzz/harness.ts. */
import { describeFuzz } from './harness';
import { TARGETS } from './targets';

describeFuzz('weights', TARGETS);
