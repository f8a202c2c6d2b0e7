/** The bounded fuzz run of the feature, head and score-file parsers (spec/fuzz/targets.ts, group "features"); see spec/fuzz/harness.ts. */
import { describeFuzz } from './harness';
import { TARGETS } from './targets';

describeFuzz('features', TARGETS);
