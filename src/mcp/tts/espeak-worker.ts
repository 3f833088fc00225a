/**
 * Worker thread that runs espeak-ng (WASM). Synthesis is synchronous CPU work of 100 ms or more
 * per prompt; on the main thread it would stall RTP for every call, and a runaway run could not
 * be stopped. Here the provider can terminate the thread when a deadline passes.
 *
 * The Emscripten build is the espeak-ng program: main() runs once per instance and then the
 * instance is spent, so each job instantiates the shared compiled module afresh (cheap next to
 * compiling it) and reads the WAV that `-w` wrote to the instance's virtual file system.
 */
import { parentPort, workerData } from 'node:worker_threads';
import createEspeakNg from 'espeak-ng';
import { instantiateWasm } from './wasm-runtime.js';
import { ESPEAK_INPUT_PATH, ESPEAK_OUTPUT_PATH, type EspeakJob, type EspeakReply, type EspeakWorkerData } from './espeak-worker-protocol.js';

const { wasmModule } = workerData as EspeakWorkerData;

async function run(job: EspeakJob): Promise<EspeakReply> {
  let status = 0;
  const errors: string[] = [];
  // Emscripten only logs a failed instantiation and waits forever; this makes it a reply
  let instantiationFailed: (err: unknown) => void = () => {};
  const failure = new Promise<never>((_resolve, reject) => {
    instantiationFailed = reject;
  });
  try {
    const starting = createEspeakNg({
      arguments: [...job.args],
      thisProgram: 'espeak-ng',
      print: () => {},
      printErr: (line) => {
        if (errors.length < 10 && !line.includes('keepRuntimeAlive')) errors.push(line);
      },
      // the default would also set process.exitCode of the whole process; the runtime expects
      // its own ExitStatus back to recognise a normal end of main()
      quit: (code, toThrow) => {
        status = code;
        throw toThrow;
      },
      preRun: [(module) => module.FS.writeFile(ESPEAK_INPUT_PATH, job.input)],
      instantiateWasm: (imports, receiveInstance) => {
        instantiateWasm(wasmModule, imports).then((instance) => receiveInstance(instance as never), instantiationFailed);
        return {};
      },
    });
    const instance = await Promise.race([starting, failure]);
    if (status !== 0) return { id: job.id, ok: false, message: errors.join('; ') || `espeak-ng exited with status ${status}` };
    // a copy we own, so its buffer can be transferred whatever the file system does with its own
    const wav = instance.FS.readFile(ESPEAK_OUTPUT_PATH).slice();
    return { id: job.id, ok: true, wav };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { id: job.id, ok: false, message: [detail, ...errors].join('; ') };
  }
}

const port = parentPort;
if (port !== null) {
  // one job at a time: the provider never sends the next before this one's reply
  port.on('message', (job: EspeakJob) => {
    void run(job).then((reply) => {
      port.postMessage(reply, reply.ok ? [reply.wav.buffer as ArrayBuffer] : []);
    });
  });
}
