/** Child-process entry for runGoldenInChild: runs the golden checks on the backend in argv[2], prints JSON. */
import { BackendName } from '../../lib/backend';
import { runGolden } from './golden';

runGolden(process.argv[2] as BackendName).then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (e) => {
    process.stderr.write(String((e as Error)?.stack ?? e));
    process.exitCode = 1;
  },
);
