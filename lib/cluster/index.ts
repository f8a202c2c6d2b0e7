/** Scale-out: the shard of a task from its scheduler's environment, SLURM job scripts and runs, Kubernetes manifests. */
export { resolveShard, shardFromEnv } from './shard';
export { arrayScript, arraySpec, mergeScript } from './sbatch';
export type { ClusterExtraction, SlurmResources } from './sbatch';
export { ClusterJobError, failures, readRun, runStatus, submitExtraction, unfinishedShards, waitForRun, writeScripts } from './slurm';
export type { RunRecord, RunStatus, ShardState, Submission, SubmitResult, WaitOptions } from './slurm';
export { k8sManifests } from './k8s';
export type { K8sExtraction, K8sOptions } from './k8s';
