/**
 * A PBX for conformance tests: `opencx start` with every role on 127.0.0.1 (free ports, MD5
 * challenges for Debian's baresip, media bound to loopback), users added through the CLI, and
 * registered baresip phones. Everything is stopped and removed when the test ends.
 */
import type { Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOpencx, startOpencx, type OpencxProcess } from './opencx-process.js';
import { baresipAvailable, BARESIP_BIN, startBaresip, type BaresipOptions, type BaresipPhone } from './baresip.js';

export interface Pbx {
  server: OpencxProcess;
  /** the SIP UDP port */
  udp: number;
  /** a scratch directory of the test */
  work: string;
  /** `opencx ARGS --data-dir <the server's>`, asserted to exit 0 */
  cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** a registered baresip phone for user@127.0.0.1 (password pw-user), over UDP or TLS; auto-answers when `answer` */
  phone(user: string, options?: { answer?: boolean; commands?: string[]; audioSource?: string; console?: boolean; transport?: 'udp' | 'tls' }): Promise<BaresipPhone>;
  /** opencx's error and fatal log lines (a test asserts there are none) */
  errors(): string[];
  /** after the calls: no call, SIP dialog, pending INVITE, media endpoint or RTP port is left (waits up to 5 s) */
  assertIdle(t: Test): Promise<void>;
}

/** `roles`: e.g. ['sip', 'control'] for a plain registrar and proxy; default every role. `env`: more OPENCX_* settings */
export async function startPbx(t: Test, users: string[], options: { roles?: string[]; env?: Record<string, string> } = {}): Promise<Pbx | undefined> {
  t.ok(baresipAvailable(), `baresip found at ${BARESIP_BIN}`);
  if (!baresipAvailable()) return undefined;
  const roles = options.roles !== undefined ? ['--role', options.roles.join(',')] : [];
  const server = await startOpencx([...roles, '--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: { OPENCX_SIP__AUTH_ALGORITHMS: 'MD5', OPENCX_MEDIA__BIND: '127.0.0.1', ...(options.env ?? {}) },
  });
  const work = mkdtempSync(path.join(tmpdir(), 'opencx-pbx-'));
  const phones: BaresipPhone[] = [];
  t.teardown(async () => {
    if (process.env.DUMP_SERVER_LOG !== undefined) writeFileSync(process.env.DUMP_SERVER_LOG, [...server.output, ...phones.map((p) => p.output())].join('\n'));
    for (const p of phones) await p.stop();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const udp = server.ports.udp as number;
  const cli = async (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const r = await runOpencx([...args, '--data-dir', server.dataDir]);
    t.equal(r.code, 0, `opencx ${args.join(' ')}: ${r.stdout.trim()}${r.stderr.trim()}`);
    return r;
  };
  for (const u of users) await cli('user', 'add', `${u}@127.0.0.1`, '--password', `pw-${u}`);
  return {
    server,
    udp,
    work,
    cli,
    errors: () => server.output.filter((l) => /"level":(50|60)/.test(l)),
    async assertIdle(t: Test) {
      const gauges = ['opencx_calls_active', 'opencx_sip_ua_dialogs', 'opencx_sip_ua_pending_invites', 'opencx_media_endpoints', 'opencx_media_ports_in_use'];
      let last = '';
      // up to 15 s: on a loaded 2-core box the BYE to the other leg and its answer can take seconds
      for (let i = 0; i < 150; i++) {
        last = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
        if (gauges.every((g) => new RegExp(`^${g} 0$`, 'm').test(last))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const g of gauges) t.match(last, new RegExp(`^${g} 0$`, 'm'), `${g} back to 0`);
    },
    async phone(user, options = {}) {
      const tls = options.transport === 'tls';
      const via = tls ? `<sip:${user}@127.0.0.1;transport=tls>;auth_pass=pw-${user};outbound="sip:127.0.0.1:${server.ports.tls as number};transport=tls"` : `<sip:${user}@127.0.0.1>;auth_pass=pw-${user};outbound="sip:127.0.0.1:${udp};transport=udp"`;
      const opts: BaresipOptions = {
        account: `${via};regint=600${options.answer === true ? ';answermode=auto' : ''}`,
        ...(options.commands !== undefined ? { commands: options.commands } : {}),
        ...(options.audioSource !== undefined ? { audioSource: options.audioSource } : {}),
        ...(options.console !== undefined ? { console: options.console } : {}),
      };
      const phone = await startBaresip(opts);
      phones.push(phone);
      t.ok(await phone.waitFor(new RegExp(`${user}@127\\.0\\.0\\.1: \\{0/${tls ? 'TLS' : 'UDP'}/v4\\} 200 OK`), 15000), `${user} registered over ${tls ? 'TLS' : 'UDP'}`);
      return phone;
    },
  };
}
