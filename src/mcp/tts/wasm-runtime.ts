/**
 * The two WebAssembly calls the espeak engine needs. Node has the WebAssembly global, but the
 * project's lib settings (ES2023, no DOM) carry no types for it; this declares just enough.
 */

/** A compiled WebAssembly.Module: structured-clonable, so worker threads share one compile. */
export interface CompiledWasm {
  readonly __compiledWasm: unique symbol;
}

/** A WebAssembly.Instance, opaque here: Emscripten's glue code reads its exports. */
export interface WasmInstance {
  readonly __wasmInstance: unique symbol;
}

interface WasmGlobal {
  compile(bytes: Uint8Array): Promise<CompiledWasm>;
  instantiate(module: CompiledWasm, imports: object): Promise<WasmInstance>;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

export function compileWasm(bytes: Uint8Array): Promise<CompiledWasm> {
  return wasm.compile(bytes);
}

export function instantiateWasm(module: CompiledWasm, imports: object): Promise<WasmInstance> {
  return wasm.instantiate(module, imports);
}
