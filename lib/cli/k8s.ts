import * as path from 'path';
import type { CommandModule, Options } from 'yargs';
import { k8sManifests } from '../cluster/k8s';
import { UsageError } from '../errors';
import { runCommand } from './run';
import { CLUSTER_OPTIONS, ClusterArgs, clusterExtraction, withExtractOptions } from './slurm';

const K8S_OPTIONS = {
  ...CLUSTER_OPTIONS,
  image: { type: 'string', demandOption: true, describe: 'container image with wavprobe' },
  volume: { type: 'string', array: true, default: [] as string[], describe: 'CLAIM:/mount/path: a PersistentVolumeClaim in every pod (repeatable)' },
  name: { type: 'string', default: 'wavprobe', describe: 'Job names: NAME-extract, NAME-merge' },
  parallelism: { type: 'number', describe: 'pods at once (default: --tasks)' },
  namespace: { type: 'string', describe: 'metadata.namespace of the Jobs' },
} as const satisfies Record<string, Options>;

interface K8sArgs extends ClusterArgs {
  image: string;
  volume: string[];
  name: string;
  parallelism?: number;
  namespace?: string;
}

const k8sExtractCommand: CommandModule<object, K8sArgs> = {
  command: 'extract',
  describe: "print an Indexed Job (extract --shard auto, one shard per pod) and a merge Job; paths are the containers'",
  builder: (y) => withExtractOptions(y, K8S_OPTIONS) as never,
  handler: (args) =>
    runCommand('k8s', async () => {
      if (!path.posix.isAbsolute(args.out)) throw new UsageError(`--out must be an absolute path inside the containers, got "${args.out}"`);
      const wavprobe = (args.wavprobe ?? 'wavprobe').split(/\s+/).filter(Boolean);
      const x = clusterExtraction(args, K8S_OPTIONS, args.out, wavprobe.join(' '));
      const o = { name: args.name, image: args.image, volumes: args.volume, cpusPerTask: args['cpus-per-task'], mem: args.mem };
      process.stdout.write(k8sManifests({ ...x, wavprobe }, { ...o, parallelism: args.parallelism, namespace: args.namespace }));
    }),
};

export const k8sCommand: CommandModule = {
  command: 'k8s <command>',
  describe: 'Extract across a Kubernetes cluster: print the manifests of an Indexed Job of shards and a merge Job (extract)',
  builder: (y) => y.command(k8sExtractCommand).demandCommand(1, 'name a k8s command: extract'),
  handler: () => undefined,
};
