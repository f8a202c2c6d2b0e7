import { describeGolden } from '../helpers/golden';

// wasm runs in golden-wasm.spec.ts, so jest spreads the two backends over its workers. The cpu run itself happens
// in a child process: see runGoldenInChild.
describeGolden('cpu', { inChild: true });
