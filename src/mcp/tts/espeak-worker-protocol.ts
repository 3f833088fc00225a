/** Messages between EspeakTtsProvider and its worker thread (espeak-worker.ts). */
import type { CompiledWasm } from './wasm-runtime.js';

export interface EspeakWorkerData {
  /** compiled once by the provider and shared with every worker it starts */
  wasmModule: CompiledWasm;
}

export interface EspeakJob {
  id: number;
  /** espeak-ng command line arguments, without the program name */
  args: string[];
  /** written to the virtual file the arguments read with -f */
  input: string;
}

export type EspeakReply =
  | { id: number; ok: true; wav: Uint8Array }
  | { id: number; ok: false; message: string };

/** Paths inside the Emscripten virtual file system of one espeak-ng run. */
export const ESPEAK_INPUT_PATH = '/prompt.ssml';
export const ESPEAK_OUTPUT_PATH = '/prompt.wav';
