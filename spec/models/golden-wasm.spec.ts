import { describeGolden } from '../helpers/golden';

// cpu runs in golden-cpu.spec.ts, so jest spreads the two backends over its workers.
describeGolden('wasm');
