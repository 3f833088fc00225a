/**
 * `opencx app` as an operator runs it: push a folder to a running server (found by
 * <data-dir>/server.json, key in <data-dir>/api-key), fetch the served entry URL the command
 * printed, pull it back; and the same commands on the data directory of a stopped server.
 *
 * The CLI is run from the build this test was compiled into (dist/ or a helper's dist-xyz/),
 * so the commands under test are the ones built with it, whatever bin/opencx.js points at.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { isAppCommand, parseAppCommand } from '../../../src/cli/app-commands.js';
import { repoRoot } from '../../helpers/paths.js';

const HOST = '127.0.0.1';
const MAIN = new URL('../../../src/cli/main.js', import.meta.url).href;
const RUNNER = `const { runCli } = await import(${JSON.stringify(MAIN)}); process.exitCode = await runCli(process.argv.slice(1), process.env);`;

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', RUNNER, ...args], { cwd: repoRoot(), env: { ...process.env, OPENCX_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** `opencx start` with the control role only; resolves with its HTTP port once it logged "opencx started" */
async function startServer(t: Test, dataDir: string): Promise<number> {
  const child = spawnCli(['start', '--data-dir', dataDir, '--role', 'control', '--bind', HOST, '--http-port', '0']);
  const output: string[] = [];
  let exited = false;
  child.on('exit', () => (exited = true));
  t.teardown(async () => {
    if (exited) return;
    const gone = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  });
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opencx did not start:\n${output.join('\n')}`));
    }, 60_000);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        output.push(line);
        if (!line.includes('opencx started')) continue;
        try {
          const port = (JSON.parse(line) as { ports?: { http?: number } }).ports?.http;
          if (port === undefined) continue;
          clearTimeout(timer);
          resolve(port);
        } catch {
          // not JSON: keep reading
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`opencx exited with ${code} before starting:\n${output.join('\n')}`));
    });
  });
}

const ENTRY = '<?xml version="1.0"?>\n<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"><form><block><audio src="audio/hello.wav"/></block></form></vxml>\n';
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0xff, 0x80, 0x00, 0x0d, 0x0a, 0x1a]), Buffer.alloc(3000, 0x7f)]);

function demoFolder(root: string): string {
  const dir = path.join(root, 'demo');
  mkdirSync(path.join(dir, 'audio'), { recursive: true });
  mkdirSync(path.join(dir, 'grammars'), { recursive: true });
  mkdirSync(path.join(dir, '.git'), { recursive: true });
  writeFileSync(path.join(dir, 'main.vxml'), ENTRY);
  writeFileSync(path.join(dir, 'audio', 'hello.wav'), WAV);
  writeFileSync(path.join(dir, 'grammars', 'yesno.grxml'), '<grammar xmlns="http://www.w3.org/2001/06/grammar" root="yn"><rule id="yn"><one-of><item>yes</item><item>no</item></one-of></rule></grammar>');
  writeFileSync(path.join(dir, 'README.md'), 'not hosted');
  writeFileSync(path.join(dir, '.git', 'config'), 'hidden');
  return dir;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('usage: --help, and usage errors found before anything is opened', async (t) => {
  const help = await cli('app', '--help');
  t.equal(help.code, 0);
  t.match(help.stdout, 'opencx app push NAME DIR');
  // parsing in-process: each spawned CLI costs seconds on a busy machine
  t.ok(isAppCommand(['--data-dir', '/tmp/x', 'app', 'list']));
  t.notOk(isAppCommand(['trunk', 'list']));
  t.match(parseAppCommand(['app', 'push', 'Bad_Name', '/tmp']), /NAME must be/);
  t.match(parseAppCommand(['app', 'push', 'demo']), /needs a NAME and a DIR/);
  t.match(parseAppCommand(['app', 'create', 'demo', '--entry', '../x.vxml']), /--entry/);
  t.match(parseAppCommand(['app', 'frobnicate', 'demo']), /unknown app command/);
  t.match(parseAppCommand(['app', 'list', 'extra']), /unexpected argument/);
  t.match(parseAppCommand(['app', 'push', 'demo', 'dir', '--tenant', 'acme', '--entry', 'start.vxml']), {
    action: { kind: 'push', name: 'demo', dir: 'dir', entry: 'start.vxml' },
    tenant: 'acme',
  });
});

t.test('against a running server: push, fetch the printed URL, list, show, pull, delete', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'opencx-app-cli-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dataDir = path.join(work, 'data');
  const port = await startServer(t, dataDir);
  const dir = demoFolder(work);

  const pushed = await cli('app', 'push', 'demo', dir, '--data-dir', dataDir, '--description', 'the demo');
  t.equal(pushed.code, 0, pushed.stderr);
  t.match(pushed.stdout, /created application demo/);
  t.match(pushed.stdout, /pushed 3 file\(s\)/);
  t.match(pushed.stderr, /skipped README\.md/, 'a file type that is not hosted is reported');
  t.notMatch(pushed.stderr, /\.git/, 'hidden folders are left out silently');
  const url = pushed.stdout.trim().split('\n').pop() ?? '';
  t.equal(url, `http://${HOST}:${port}/vxml/default/demo/main.vxml`, 'the last line is the served entry URL');

  const doc = await fetch(url);
  t.equal(doc.status, 200);
  t.match(doc.headers.get('content-type') ?? '', /^application\/voicexml\+xml/);
  t.equal(doc.headers.get('cache-control'), 'max-age=60');
  t.equal(await doc.text(), ENTRY);
  const audio = await fetch(new URL('audio/hello.wav', url));
  t.equal(audio.headers.get('content-type'), 'audio/x-wav');
  const audioBytes = Buffer.from(await audio.arrayBuffer());
  t.ok(audioBytes.equals(WAV), 'the audio relative to the document, byte-exact');
  const etag = audio.headers.get('etag') ?? '';
  t.equal(etag, `"${sha(WAV)}"`);
  t.equal((await fetch(new URL('audio/hello.wav', url), { headers: { 'if-none-match': etag } })).status, 304);
  t.equal((await fetch(new URL('README.md', url))).status, 404);

  const again = await cli('app', 'push', 'demo', dir, '--data-dir', dataDir);
  t.equal(again.code, 0, again.stderr);
  t.notMatch(again.stdout, /created/, 'a second push replaces the files');

  const list = await cli('app', 'list', '--data-dir', dataDir);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^demo\tmain\.vxml\t3 file\(s\)\t\d+ bytes\tthe demo$/m);
  const show = await cli('app', 'show', 'demo', '--data-dir', dataDir);
  t.match(show.stdout, /audio\/hello\.wav\taudio\/x-wav\t3011 bytes/);
  t.match(show.stdout, `url: ${url}`);

  const out = path.join(work, 'pulled');
  const pulled = await cli('app', 'pull', 'demo', out, '--data-dir', dataDir);
  t.equal(pulled.code, 0, pulled.stderr);
  t.ok(readFileSync(path.join(out, 'audio', 'hello.wav')).equals(WAV), 'pulled byte-exact');
  t.equal(readFileSync(path.join(out, 'main.vxml'), 'utf8'), ENTRY);

  const wrongKey = await cli('app', 'list', '--server', `http://${HOST}:${port}`, '--api-key', 'wrong');
  t.equal(wrongKey.code, 1);
  t.match(wrongKey.stderr, /401/);

  t.equal((await cli('app', 'delete', 'demo', '--data-dir', dataDir)).code, 0);
  t.equal((await fetch(url)).status, 404, 'a deleted application is no longer served');
});

t.test('on a stopped server: create and push work on the data directory', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'opencx-app-cli-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dataDir = path.join(work, 'data');
  const created = await cli('app', 'create', 'ivr', '--entry', 'start.vxml', '--data-dir', dataDir);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /created application ivr; entry http:\/\/.*\/vxml\/default\/ivr\/start\.vxml/);
  const pushed = await cli('app', 'push', 'ivr', demoFolder(work), '--data-dir', dataDir);
  t.equal(pushed.code, 0, pushed.stderr);
  t.notMatch(pushed.stdout, /created/, 'the existing application');
  t.match(pushed.stdout, /pushed 3 file\(s\)/);
  t.match(pushed.stderr, /the entry document start\.vxml was not among the files pushed/);
});
