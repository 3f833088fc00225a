/**
 * The npm `espeak-ng` package ships no types: it is the espeak-ng command line program built
 * with Emscripten (MODULARIZE, ES6 export). Only what espeak-worker.ts uses is declared.
 */
declare module 'espeak-ng' {
  interface EspeakFileSystem {
    writeFile(path: string, data: string | Uint8Array): void;
    readFile(path: string): Uint8Array;
  }

  interface EspeakModule {
    FS: EspeakFileSystem;
  }

  interface EspeakModuleOptions {
    /** argv[1..] of the program; main() runs once when the module is ready */
    arguments: string[];
    thisProgram?: string;
    print?: (line: string) => void;
    printErr?: (line: string) => void;
    /** replaces the default, which would set process.exitCode */
    quit?: (status: number, toThrow: unknown) => never;
    preRun?: Array<(module: EspeakModule) => void>;
    /** instantiate the program ourselves (imports and instance are WebAssembly objects) */
    instantiateWasm?: (imports: object, receiveInstance: (instance: never) => void) => Record<string, never>;
  }

  export default function createEspeakNg(options: EspeakModuleOptions): Promise<EspeakModule>;
}
