/** Forward outputs as named host tensors, named exactly like the golden case files. */
import { HostTensor } from '../weights/tensor';
import { ForwardOutput } from './types';
import * as tf from '@tensorflow/tfjs-core';

const host = (t: tf.Tensor): HostTensor => ({ shape: t.shape.slice(), data: t.dataSync() as Float32Array });

/** conv_features, extract_features, hidden_states_<i>, last_hidden_state, frame_attention_mask (those present). */
export function namedOutputs(out: ForwardOutput): Map<string, HostTensor> {
  const named = new Map<string, HostTensor>();
  named.set('conv_features', host(out.convFeatures));
  if (out.extractFeatures) named.set('extract_features', host(out.extractFeatures));
  out.hiddenStates.forEach((h, i) => named.set(`hidden_states_${i}`, host(h)));
  if (out.lastHiddenState) named.set('last_hidden_state', host(out.lastHiddenState));
  if (out.frameMask) named.set('frame_attention_mask', host(out.frameMask));
  return named;
}

/** Frees every tensor of a forward output (the caller owns them). */
export function disposeOutput(out: ForwardOutput): void {
  const all: (tf.Tensor | undefined)[] = [
    out.convFeatures,
    out.extractFeatures,
    ...out.hiddenStates,
    out.lastHiddenState,
    out.frameMask,
    ...(out.attentionEntropy ?? []),
    ...(out.attentionMaps ?? []),
  ];
  tf.dispose(all.filter((t): t is tf.Tensor => t !== undefined));
}
