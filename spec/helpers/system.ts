/**
 * Specs that need a system component (Chromium, a SLURM cluster). `.ci/run` installs and starts them and lists them
 * in WAVPROBE_REQUIRE (comma-separated names), so their absence fails there; on a machine without them the specs are
 * skipped, and the run says which and how to enable them, so `npm test` still passes.
 */
export interface SystemComponent {
  /** The name WAVPROBE_REQUIRE uses: `chromium`, `slurm`. */
  name: string;
  /** Why it is missing, or undefined when it is there. */
  missing: () => string | undefined;
  /** How to get it, e.g. "apt-get install chromium" or "sudo tools/slurm-cluster.sh up". */
  enable: string;
}

export function required(name: string): boolean {
  return (process.env.WAVPROBE_REQUIRE ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(name);
}

/** describe() when the component is there; otherwise a failure when it is required, else a skip that says how to enable it. */
export function describeWith(component: SystemComponent, title: string, body: () => void): void {
  const why = component.missing();
  if (why === undefined) return describe(title, body);
  if (required(component.name)) {
    describe(title, () => {
      it(`needs ${component.name}`, () => {
        throw new Error(`${component.name} is required here (WAVPROBE_REQUIRE) but ${why}; ${component.enable}`);
      });
    });
    return;
  }
  process.stderr.write(`skipped "${title}": ${why}. To run it: ${component.enable}\n`);
  describe.skip(title, body);
}
