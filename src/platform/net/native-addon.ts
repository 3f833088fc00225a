/**
 * Finds and loads the native UDP addon (native/udp, built by scripts/build-native.mjs). Loading
 * is tried once per thread; the outcome, with the reason when it failed, is kept.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../../lib/index.js';
import type { OpenUdpSocketOptions } from './types.js';

export const ADDON_RELATIVE_PATH = path.join('native', 'udp', 'build', 'Release', 'opencx_udp.node');

/** What the addon's C side exposes (native/udp/udp.c). */
export interface NativeUdpHandle {
  /** false when the datagram was dropped (queue full or socket closed); throws on bad arguments. A string goes as UTF-8. */
  send(data: Uint8Array | string, port: number, address: string): boolean;
  /** false when the datagram was dropped (socket closed, scheduleLimit reached); throws on bad arguments or a bad delay */
  sendAt(data: Uint8Array, port: number, address: string, delayMs: number): boolean;
  /** how many of this socket's scheduled datagrams were taken back */
  cancelScheduled(): number;
  flush(): void;
  close(): void;
  stats(): { received: number; sent: number; sendErrors: number; recvErrors: number; dropped: number; queued: number; scheduled: number };
  local(): { address: string; port: number };
  /** SO_RCVBUF / SO_SNDBUF as granted, halved back from the kernel's doubled figure */
  bufferSizes(): { recv: number; send: number };
}

/** open()'s options as the C side reads them: the socket options it takes as they are, plus its own */
export interface NativeOpenOptions extends Pick<OpenUdpSocketOptions, 'address' | 'port' | 'recvBufferSize' | 'sendBufferSize' | 'reusePort' | 'spreadOver' | 'scheduleLimit' | 'ioThread'> {
  family: 4 | 6;
  /** OpenUdpSocketOptions.sendQueueLimit */
  queueLimit?: number | undefined;
  batchBuffers: boolean;
  /** `batch` is undefined when the bytes are in the shared scratch area */
  onBatch: (batch: Buffer | undefined, count: number) => void;
  onError: (errno: number, syscall: string, address: string, port: number) => void;
}

/** What the process's pacer thread (sendAt) has done since start. */
export interface UdpPacerStats {
  /** datagrams it sent */
  sent: number;
  /** of those, sent 20 ms or more after their time (the thread was starved of CPU) */
  late: number;
  /** the latest one, ms after its time */
  maxLateMs: number;
  /**
   * how the thread was put ahead of the process's other threads: 'realtime' (SCHED_FIFO, lowest
   * priority), 'nice' (10 below the process), or 'none' (not allowed: both need CAP_SYS_NICE)
   */
  priority: 'realtime' | 'nice' | 'none';
}

export interface NativeUdpAddon {
  open(options: NativeOpenOptions): NativeUdpHandle;
  pacerStats?(): UdpPacerStats;
  buffers(): { scratch: ArrayBuffer; meta: Uint32Array };
  constants: { batch: number; metaWords: number };
}

export type NativeUdpStatus = { ok: true } | { ok: false; reason: string };

let loaded: { addon: NativeUdpAddon; status: { ok: true } } | { addon: undefined; status: { ok: false; reason: string } } | undefined;

/** The addon file, looked for above this module (dist*\/src/platform/net → repository root). */
function findAddon(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, ADDON_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function isAddon(x: unknown): x is NativeUdpAddon {
  const a = x as Partial<NativeUdpAddon> | null;
  return typeof a === 'object' && a !== null && typeof a.open === 'function' && typeof a.buffers === 'function' && typeof a.constants === 'object';
}

function load(): NonNullable<typeof loaded> {
  if (process.platform !== 'linux') return { addon: undefined, status: { ok: false, reason: `the native UDP engine is Linux-only (this is ${process.platform})` } };
  const file = findAddon();
  if (file === undefined) return { addon: undefined, status: { ok: false, reason: `native UDP addon not built (${ADDON_RELATIVE_PATH} missing; run npm run build:native)` } };
  try {
    const addon: unknown = createRequire(import.meta.url)(file);
    if (!isAddon(addon)) return { addon: undefined, status: { ok: false, reason: `${file} is not the opencx UDP addon` } };
    return { addon, status: { ok: true } };
  } catch (err) {
    return { addon: undefined, status: { ok: false, reason: `cannot load ${file}: ${describeError(err)}` } };
  }
}

export function nativeUdpAddon(): NativeUdpAddon | undefined {
  loaded ??= load();
  return loaded.addon;
}

/** The pacer thread's figures, when the native engine is loaded in this thread. */
export function udpPacerStats(): UdpPacerStats | undefined {
  const addon = nativeUdpAddon();
  return typeof addon?.pacerStats === 'function' ? addon.pacerStats() : undefined;
}

/** Whether the native engine can be used in this thread, and why not. */
export function nativeUdpAvailable(): NativeUdpStatus {
  loaded ??= load();
  return loaded.status;
}
