/// <reference lib="dom" />
/**
 * lib/audio/wasm-decoders.ts in the browser build: the FLAC and MPEG decoders are ES modules, which the bundler
 * includes as they are (Node evaluates their UMD bundles instead, see the original).
 */
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { MPEGDecoder } from 'mpg123-decoder';
export { captureConsole } from '../audio/wasm-decoders';

export const flacDecoderClass = (): typeof FLACDecoder => FLACDecoder;
export const mpegDecoderClass = (): typeof MPEGDecoder => MPEGDecoder;
