import { readFileSync } from 'node:fs';
import t from 'tap';
import { StreamFramer, contentLengthOf, frameNext, type FramerEvent } from '../../../../src/sip/transport/index.js';
import { fixture } from '../../../helpers/paths.js';

const load = (name: string): Buffer => readFileSync(fixture(import.meta.url, 'fixtures/' + name));
const limits = { maxMessageSize: 65_535, maxHeaderSize: 65_535 };

function drain(f: StreamFramer): FramerEvent[] {
  const out: FramerEvent[] = [];
  for (let e = f.next(); e !== undefined; e = f.next()) out.push(e);
  return out;
}

function feed(data: Buffer, chunk: number, l = limits): FramerEvent[] {
  const f = new StreamFramer(l);
  const out: FramerEvent[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    f.push(data.subarray(i, i + chunk));
    out.push(...drain(f));
  }
  return out;
}

const summary = (evs: FramerEvent[]): string[] => evs.map((e) => (e.kind === 'message' ? `message:${e.data.length}` : e.kind));

t.test('a message whose body contains CRLFCRLF is framed by Content-Length', async (t) => {
  const data = load('invite-body-crlfcrlf.bin');
  const r = frameNext(data, 0, limits);
  t.same(r, { kind: 'message', consumed: data.length });
});

t.test('pipelined ping, messages and a stray CRLF, whole and split at every chunk size', async (t) => {
  const data = load('pipelined.bin');
  const whole = feed(data, data.length);
  t.same(summary(whole).map((s) => s.split(':')[0]), ['ping', 'message', 'message', 'message']);
  const lengths = whole.filter((e) => e.kind === 'message').map((e) => (e as { data: Buffer }).data.toString('latin1'));
  t.ok(lengths[0]!.startsWith('INVITE') && lengths[0]!.endsWith('s=-\r\n'));
  t.ok(lengths[1]!.startsWith('OPTIONS'));
  for (const size of [1, 2, 3, 5, 7, 64, 100]) {
    t.same(summary(feed(data, size)), summary(whole), `chunk size ${size}`);
  }
});

t.test('split delivery one byte at a time yields the same bytes', async (t) => {
  const data = load('invite-body-crlfcrlf.bin');
  const evs = feed(data, 1);
  t.equal(evs.length, 1);
  t.ok(evs[0]!.kind === 'message' && evs[0]!.data.equals(data));
});

t.test('framing errors', async (t) => {
  for (const [name, reason] of [
    ['ncl.bin', /negative/],
    ['nonnumeric-cl.bin', /non-numeric/],
    ['missing-cl.bin', /missing/],
  ] as const) {
    const data = load(name);
    const evs = feed(data, data.length);
    t.equal(evs.length, 1, name);
    const e = evs[0]!;
    t.equal(e.kind, 'error', name);
    if (e.kind === 'error') {
      t.match(e.reason, reason, name);
      t.ok(e.data.toString('latin1').endsWith('\r\n\r\n'), 'error carries the header section');
    }
  }
});

t.test('after an error the framer yields nothing more', async (t) => {
  const f = new StreamFramer(limits);
  f.push(Buffer.concat([load('ncl.bin'), load('invite-body-crlfcrlf.bin')]));
  t.equal(drain(f).length, 1);
  f.push(load('invite-body-crlfcrlf.bin'));
  t.equal(drain(f).length, 0);
});

t.test('folded and compact Content-Length', async (t) => {
  const data = load('folded-cl.bin');
  t.same(summary(feed(data, 1)), [`message:${data.length}`]);
  t.same(contentLengthOf('X a SIP/2.0\r\nL: 12'), { ok: true, length: 12 });
  t.same(contentLengthOf('X a SIP/2.0\r\nContent-Length: 1\r\nl: 2').ok, false);
  t.same(contentLengthOf('X a SIP/2.0\r\nContent-Length: 99999999999999999999'), { ok: true, length: Number.MAX_SAFE_INTEGER });
});

t.test('size limits', async (t) => {
  const data = load('invite-body-crlfcrlf.bin');
  const small = { maxMessageSize: data.length - 1, maxHeaderSize: 65_535 };
  const evs = feed(data, 9, small);
  t.equal(evs[0]?.kind, 'error');
  t.match(evs[0]?.kind === 'error' ? evs[0].reason : '', /over/);
  // a header section that never ends
  const endless = Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + 'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(100), 'latin1');
  const e2 = feed(endless, 50, { maxMessageSize: 65_535, maxHeaderSize: 1000 });
  t.equal(e2.length, 1);
  t.match(e2[0]?.kind === 'error' ? e2[0].reason : '', /header section over 1000/);
  t.same(frameNext(Buffer.from('INVITE x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n'), 0, limits).kind, 'error');
});

t.test('truncated input stays incomplete and buffered', async (t) => {
  const data = load('invite-body-crlfcrlf.bin');
  for (const cut of [1, 10, data.length - 30, data.length - 1]) {
    const f = new StreamFramer(limits);
    f.push(data.subarray(0, cut));
    t.same(drain(f), [], `cut at ${cut}`);
    t.equal(f.buffered, cut);
  }
  const r = frameNext(data.subarray(0, data.length - 3), 0, limits);
  t.equal(r.kind, 'incomplete');
  t.equal(r.kind === 'incomplete' ? r.expectedLength : 0, data.length);
});

t.test('keepalive edge cases', async (t) => {
  t.same(frameNext(Buffer.from('\r\n\r\n'), 0, limits), { kind: 'ping', consumed: 4 });
  t.same(frameNext(Buffer.from('\r\nINVITE'), 0, limits), { kind: 'crlf', consumed: 2 });
  t.equal(frameNext(Buffer.from('\r\n'), 0, limits).kind, 'incomplete');
  t.equal(frameNext(Buffer.from('\r\n\r'), 0, limits).kind, 'incomplete');
  t.equal(frameNext(Buffer.alloc(0), 0, limits).kind, 'incomplete');
  t.same(frameNext(Buffer.from('\nX'), 0, limits), { kind: 'crlf', consumed: 1 });
  // two pings split byte by byte
  t.same(summary(feed(Buffer.from('\r\n\r\n\r\n\r\n'), 1)), ['ping', 'ping']);
});

t.test('message views are stable after more data arrives', async (t) => {
  const a = load('invite-body-crlfcrlf.bin');
  const f = new StreamFramer(limits);
  const got: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    const both = Buffer.concat([a, a]);
    f.push(both.subarray(0, a.length + 7));
    for (const e of drain(f)) if (e.kind === 'message') got.push(e.data);
    f.push(both.subarray(a.length + 7));
    for (const e of drain(f)) if (e.kind === 'message') got.push(e.data);
  }
  t.equal(got.length, 6);
  for (const g of got) t.ok(g.equals(a));
});
