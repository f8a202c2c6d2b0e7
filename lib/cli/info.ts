import type { CommandModule } from 'yargs';
import * as tf from '@tensorflow/tfjs-core';
import * as os from 'os';
import { BackendArgs, runCommand, selectBackend, withBackend } from './run';
import { isInstalled } from '../backend';
import { cacheDir } from '../weights/cache';

import { packageInfo } from '../version';

export const infoCommand: CommandModule<object, BackendArgs & { json?: boolean }> = {
  command: 'info',
  describe: 'Print versions, backend, SIMD/thread support and the model cache directory',
  builder: (y) => withBackend(y).option('json', { type: 'boolean', describe: 'one JSON object' }),
  handler: (args) =>
    runCommand('info', async () => {
      const backend = await selectBackend(args);
      const info = {
        wavprobe: packageInfo().version,
        node: process.version,
        tfjs: tf.version_core,
        backend,
        wasm_simd: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : null,
        wasm_threads: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') : null,
        tfjs_node_installed: isInstalled('@tensorflow/tfjs-node'),
        tfjs_node_gpu_installed: isInstalled('@tensorflow/tfjs-node-gpu'),
        cache_dir: cacheDir(),
        cpus: os.cpus().length,
      };
      if (args.json) console.log(JSON.stringify(info));
      else for (const [k, v] of Object.entries(info)) console.log(`${k.padEnd(24)} ${v}`);
    }),
};
