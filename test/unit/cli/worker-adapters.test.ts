import t from 'tap';
import { RpcDirectory } from '../../../src/cli/worker-adapters.js';

function fakePrimary() {
  const calls: string[] = [];
  const users = new Map<string, string>([['alice@example.com', 'ha1-alice']]);
  let hold: (() => void) | undefined;
  const call = async (op: string, ...args: unknown[]): Promise<unknown> => {
    calls.push(op);
    if (hold !== undefined) await new Promise<void>((resolve) => { const h = hold; hold = undefined; h?.(); setImmediate(resolve); });
    if (op === 'dir.isLocalDomain') return args[0] === 'example.com';
    if (op === 'dir.ha1') return users.get(`${String(args[0])}@${String(args[1])}`);
    if (op === 'dir.userExists') return users.has(`${String(args[0])}@${String(args[1])}`);
    throw new Error(op);
  };
  return { call, calls, users, pause: (fn: () => void) => { hold = fn; } };
}

t.test('answers are cached until the primary says provisioning changed', async (t) => {
  const p = fakePrimary();
  const dir = new RpcDirectory(p.call);
  t.equal(await dir.isLocalDomain('example.com'), true);
  t.equal(await dir.isLocalDomain('example.com'), true);
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice');
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice');
  t.equal(await dir.ha1('bob', 'example.com', 'MD5'), undefined);
  t.equal(await dir.ha1('bob', 'example.com', 'MD5'), undefined);
  t.equal(p.calls.length, 3);
  p.users.set('bob@example.com', 'ha1-bob');
  p.users.set('alice@example.com', 'ha1-alice-2');
  dir.invalidate();
  t.equal(await dir.ha1('bob', 'example.com', 'MD5'), 'ha1-bob');
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice-2');
  t.equal(await dir.userExists('bob', 'example.com'), true);
});

t.test('an answer to a call made before an invalidation is used once, not kept', async (t) => {
  const p = fakePrimary();
  const dir = new RpcDirectory(p.call);
  p.pause(() => {
    p.users.set('alice@example.com', 'changed');
    dir.invalidate();
  });
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'changed');
  p.users.set('alice@example.com', 'changed-again');
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'changed-again');
});

t.test('entries expire after the TTL', async (t) => {
  const p = fakePrimary();
  let now = 0;
  const dir = new RpcDirectory(p.call, { ttlMs: 1000, now: () => now });
  await dir.isLocalDomain('example.com');
  now = 999;
  await dir.isLocalDomain('example.com');
  now = 1000;
  await dir.isLocalDomain('example.com');
  t.equal(p.calls.length, 2);
});
