/**
 * Parser throughput: messages/s for a typical INVITE (with SDP) and for the RFC 4475 corpus,
 * bare and with the header accesses a server makes (topVia, callId, cseq).
 *   npx tsc -p tsconfig.json && node dist/bench/parser/run.js [seconds-per-case]
 */
import path from 'node:path';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { parseMessage, serializeMessage, type SipMessage } from '../../src/sip/message/index.js';
import { conformanceDir } from '../../test/helpers/paths.js';
import { TYPICAL_INVITE } from './messages.js';

const seconds = Number(process.argv[2] ?? '2');

function corpus(): Buffer[] {
  const base = conformanceDir();
  const dir = base === undefined ? undefined : path.join(base, 'sip-torture');
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.dat')).sort().map((f) => readFileSync(path.join(dir, f)));
}

let sink = 0;
function touch(m: SipMessage): void {
  sink += (m.topVia?.branch?.length ?? 0) + (m.callId?.length ?? 0) + (m.cseq?.seq ?? 0);
}

function run(name: string, inputs: Buffer[], access: boolean): void {
  // warm up
  for (let i = 0; i < 20000; i++) parseMessage(inputs[i % inputs.length]!);
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let k = 0; k < 1000; k++) {
      const r = parseMessage(inputs[n % inputs.length]!);
      if (access && r.ok) touch(r.message);
      n++;
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(44)} ${Math.round(n / elapsed).toLocaleString('en-US').padStart(12)} msg/s  (${n.toLocaleString('en-US')} in ${elapsed.toFixed(2)} s)`);
}

function runSerialize(): void {
  const r = parseMessage(TYPICAL_INVITE);
  if (!r.ok) throw new Error('INVITE did not parse');
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let k = 0; k < 1000; k++) sink += serializeMessage(r.message).length;
    n += 1000;
  }
  const elapsed = (performance.now() - start) / 1000;
  console.log(`${'serialize INVITE'.padEnd(44)} ${Math.round(n / elapsed).toLocaleString('en-US').padStart(12)} msg/s`);
}

console.log(`node ${process.version}, ${seconds} s per case`);
run('parse INVITE+SDP', [TYPICAL_INVITE], false);
run('parse INVITE+SDP + topVia/callId/cseq', [TYPICAL_INVITE], true);
const torture = corpus();
if (torture.length > 0) {
  run(`parse RFC 4475 corpus (${torture.length} files)`, torture, false);
  run('parse RFC 4475 corpus + topVia/callId/cseq', torture, true);
} else console.log('RFC 4475 corpus not found: skipped');
runSerialize();
if (sink === -1) console.log(sink);
