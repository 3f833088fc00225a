import { Writable } from 'node:stream';
import t from 'tap';
import { createLogger } from '../../../src/platform/index.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

t.test('JSON lines, level filter, child bindings, errors serialized', async (t) => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out.stream, base: { role: 'sip' } });
  log.debug({ a: 1 }, 'hidden');
  log.info({ callId: 'x1' }, 'hello');
  log.child({ component: 'registrar' }).warn({ aor: 'sip:a@b' }, 'careful');
  log.error({ err: new Error('boom') }, 'failed');
  const lines = out.lines();
  t.equal(lines.length, 3);
  t.match(lines[0], { level: 30, msg: 'hello', callId: 'x1', role: 'sip' });
  t.type(lines[0]!.time, 'string');
  t.match(lines[1], { level: 40, msg: 'careful', component: 'registrar', aor: 'sip:a@b', role: 'sip' });
  t.match(lines[2], { level: 50, msg: 'failed', err: { message: 'boom', type: 'Error' } });
  t.equal(log.level, 'info');
});

t.test('debug level and silent', async (t) => {
  const out = capture();
  createLogger({ level: 'debug', destination: out.stream }).debug({}, 'shown');
  t.equal(out.lines().length, 1);
  const quiet = capture();
  createLogger({ level: 'silent', destination: quiet.stream }).error({}, 'nothing');
  t.equal(quiet.lines().length, 0);
});
