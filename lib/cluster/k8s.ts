/**
 * Kubernetes manifests of a cluster extraction: an Indexed Job whose pod i runs `extract --shard auto --shards n`
 * (the index from JOB_COMPLETION_INDEX) into `<out>.shards/<i>`, and a merge Job whose init container waits until
 * every shard store is finished, so both can be applied at once. A pod that fails is retried (backoffLimit) and
 * resumes its shard's journal. Paths are the containers' paths on the mounted volumes.
 */
import { UsageError } from '../errors';
import { shardDir } from './layout';
import { shellWord } from './shell';

export interface K8sOptions {
  /** Job names: `<name>-extract`, `<name>-merge`. */
  name: string;
  image: string;
  /** PersistentVolumeClaims mounted in every pod: `claim:/mount/path`. */
  volumes: string[];
  /** Also `extract --workers`. */
  cpusPerTask: number;
  /** Memory request and limit per pod (Kubernetes quantity, e.g. 8Gi). */
  mem?: string;
  /** Pods at once (default: all tasks). */
  parallelism?: number;
  namespace?: string;
}

/** A cluster extraction for Kubernetes: `wavprobe` is the command in the image (`wavprobe`, or `node /app/bin/wavprobe.js`). */
export interface K8sExtraction {
  out: string;
  tasks: number;
  extractArgs: string[];
  wavprobe: string[];
}

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml | undefined };

/** Plain when YAML reads it back as the same string (a word, path or --option; not a number, boolean or null), else a JSON string. */
const scalar = (x: Yaml): string =>
  typeof x !== 'string' || (/^(?:[A-Za-z/]|--?[A-Za-z])[\w./-]*$/.test(x) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(x))
    ? String(x)
    : JSON.stringify(x);

/** A scalar, or a list of scalars in flow style; null for what needs a block. */
const inline = (x: Yaml): string | null =>
  typeof x !== 'object' ? scalar(x) : Array.isArray(x) && x.every((y) => typeof y !== 'object') ? `[${x.map(scalar).join(', ')}]` : null;

/** Block YAML lines of a mapping or a list (undefined members left out). */
function yaml(v: Yaml, indent = ''): string[] {
  if (Array.isArray(v)) {
    return v.flatMap((x) => {
      const one = inline(x);
      if (one !== null) return [`${indent}- ${one}`];
      const [first, ...rest] = yaml(x, indent + '  ');
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  return Object.entries(v as Record<string, Yaml | undefined>).flatMap(([k, x]) => {
    if (x === undefined) return [];
    const one = inline(x);
    return one !== null ? [`${indent}${k}: ${one}`] : [`${indent}${k}:`, ...yaml(x, indent + '  ')];
  });
}

function parseVolumes(volumes: string[]): { mounts: Yaml[]; volumes: Yaml[] } {
  const parsed = volumes.map((v, i) => {
    const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(\/.*)$/.exec(v);
    if (!m) throw new UsageError(`--volume must be CLAIM:/mount/path (a PersistentVolumeClaim name and an absolute path), got "${v}"`);
    return { name: `data-${i}`, claim: m[1], mountPath: m[3] };
  });
  return {
    mounts: parsed.map((p) => ({ name: p.name, mountPath: p.mountPath })),
    volumes: parsed.map((p) => ({ name: p.name, persistentVolumeClaim: { claimName: p.claim } })),
  };
}

/** The two Jobs as one multi-document YAML, with a header saying how to use them. */
export function k8sManifests(x: K8sExtraction, o: K8sOptions): string {
  const { mounts, volumes } = parseVolumes(o.volumes);
  const resources = (cpu: number) => ({ requests: { cpu: String(cpu), memory: o.mem }, limits: o.mem ? { memory: o.mem } : undefined });
  const pod = (containers: Yaml[], initContainers?: Yaml[]) => ({
    template: { spec: { restartPolicy: 'Never', initContainers, containers, volumes } },
  });
  const [command, ...pre] = x.wavprobe;
  const shards = Array.from({ length: x.tasks }, (_, i) => shardDir(x.out, i));
  const extract = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${o.name}-extract`, namespace: o.namespace },
    spec: {
      completionMode: 'Indexed',
      completions: x.tasks,
      parallelism: o.parallelism ?? x.tasks,
      backoffLimit: 3 * x.tasks, // counted over all indices together: about 3 retries per shard
      ...pod([
        {
          name: 'extract',
          image: o.image,
          command: [command],
          args: [
            ...pre,
            'extract',
            ...x.extractArgs,
            ...['--shard', 'auto', '--shards', String(x.tasks), '--workers', String(o.cpusPerTask)],
            ...['--out', shardDir(x.out, '$(JOB_COMPLETION_INDEX)')],
          ],
          // The Job controller sets it too; declared here so that $(JOB_COMPLETION_INDEX) in args is expanded.
          env: [
            {
              name: 'JOB_COMPLETION_INDEX',
              valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
            },
          ],
          resources: resources(o.cpusPerTask),
          volumeMounts: mounts,
        },
      ]),
    },
  };
  const wait = `for d in ${shards.map(shellWord).join(' ')}; do until [ -f "$d/meta.json" ]; do sleep 30; done; done`;
  const merge = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${o.name}-merge`, namespace: o.namespace },
    spec: {
      completions: 1,
      backoffLimit: 2,
      ...pod(
        [
          {
            name: 'merge',
            image: o.image,
            command: [command],
            args: [...pre, 'merge', ...shards, '--out', x.out],
            resources: resources(1),
            volumeMounts: mounts,
          },
        ],
        [{ name: 'wait-for-shards', image: o.image, command: ['sh', '-c', wait], volumeMounts: mounts }],
      ),
    },
  };
  return [
    `# wavprobe: extracts ${x.out} in ${x.tasks} shards on Kubernetes: an Indexed Job (pod i → ${x.out}.shards/<i>), then a merge Job.`,
    `# kubectl apply -f <this file>; the merge waits for every shard. Follow: kubectl get job ${o.name}-extract ${o.name}-merge`,
    `# Rerun after a failure: kubectl delete job ${o.name}-extract ${o.name}-merge, then apply again (finished shards are kept).`,
    ...yaml(extract),
    '---',
    ...yaml(merge),
    '',
  ].join('\n');
}
