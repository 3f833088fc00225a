import { watchOutput } from './process-output.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeSipPortPair } from './baresip.js';

/**
 * Debian linphone-cli 5.1 (`linphonec`, liblinphone 5.1.65) as a SIP phone in tests.
 *
 * linphonec reads its commands from stdin, and that is how it is driven here: `linphonecsh`
 * talks to its daemon through one socket per user id (`/tmp/linphonec-<uid>`), so two tests
 * running at once would share (and kill) each other's daemon. Each phone gets its own HOME
 * (with a writable `.local/share/linphone`), its own linphonerc with `sip_port` on a free port
 * and `register_only_when_network_is_up=0` (otherwise it never registers without a "real"
 * network interface).
 */
export const LINPHONEC_BIN = '/usr/bin/linphonec';

export function linphoneAvailable(): boolean {
  return spawnSync(LINPHONEC_BIN, ['-v']).error === undefined;
}

export interface LinphonePhone {
  child: ChildProcess;
  home: string;
  sipPort: number;
  output(): string;
  /** send one linphonec command line (e.g. `call sip:bob@127.0.0.1`) */
  send(command: string): void;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** asks `proxy list` until the default proxy says `registered: yes` */
  waitRegistered(timeoutMs?: number): Promise<boolean>;
  /** `transfer <id1> --to-call <id2>`: attended transfer of call id1's party to call id2's (REFER with Replaces) */
  transferToCall(callId: number, toCallId: number): void;
  /** `quit`, then SIGTERM/SIGKILL if it lingers; removes HOME */
  stop(): Promise<void>;
}

/** `udp`: listens on UDP only; `tcp`: on TCP only (register with `sip:HOST:PORT;transport=tcp`) */
export async function startLinphone(opts: { transport?: 'udp' | 'tcp' } = {}): Promise<LinphonePhone> {
  const transport = opts.transport ?? 'udp';
  if (!linphoneAvailable()) throw new Error(`${LINPHONEC_BIN} not found: install Debian linphone-cli (apt-get install linphone-cli); these tests do not skip`);
  const home = mkdtempSync(path.join(os.tmpdir(), 'opencx-linphone-'));
  mkdirSync(path.join(home, '.local', 'share', 'linphone'), { recursive: true });
  mkdirSync(path.join(home, '.config'), { recursive: true });
  const sipPort = await freeSipPortPair();
  const rtpPort = 45000 + 2 * Math.floor(Math.random() * 5000);
  const rc = path.join(home, 'linphonerc');
  writeFileSync(
    rc,
    [
      '[sip]',
      // 0 disables a transport
      `sip_port=${transport === 'udp' ? sipPort : 0}`,
      `sip_tcp_port=${transport === 'tcp' ? sipPort : 0}`,
      'sip_tls_port=0',
      'register_only_when_network_is_up=0',
      'ipv6_enabled=0',
      '[rtp]',
      `audio_rtp_port=${rtpPort}`,
      `video_rtp_port=${rtpPort + 2}`,
      '[sound]',
      'echocancellation=0',
      '[video]',
      'enabled=0',
      '',
    ].join('\n'),
  );
  // stdout is a pipe: without stdbuf linphonec's messages stay in its stdio buffer until exit.
  // -S prints the call state changes ("Call 1 with sip:... connected.").
  const child = spawn('stdbuf', ['-oL', '-eL', LINPHONEC_BIN, '-S', '-c', rc, '-d', '0'], {
    cwd: home,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = watchOutput('linphonec', child);
  child.stdin?.on('error', () => {});
  return {
    child,
    home,
    sipPort,
    output: () => output.text(),
    send(command: string) {
      output.append(`\n>>> ${command}\n`);
      child.stdin?.write(command + '\n');
    },
    waitFor: (re, timeoutMs) => output.waitFor(re, timeoutMs),
    transferToCall(callId: number, toCallId: number) {
      const command = `transfer ${callId} --to-call ${toCallId}`;
      output.append(`\n>>> ${command}\n`);
      child.stdin?.write(command + '\n');
    },
    async waitRegistered(timeoutMs = 15000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !output.exited()) {
        const mark = output.text().length;
        child.stdin?.write('proxy list\n');
        await new Promise((r) => setTimeout(r, 500));
        if (/registered: yes/.test(output.text().slice(mark))) return true;
      }
      return false;
    },
    async stop() {
      if (!output.exited()) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin?.write('quit\n');
        const term = setTimeout(() => child.kill('SIGTERM'), 4000);
        const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
        await gone;
        clearTimeout(term);
        clearTimeout(kill);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
