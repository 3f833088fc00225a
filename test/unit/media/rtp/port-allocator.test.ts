/** PortAllocator with a fake binder: which ports it picks, what it skips, when it gives up. */
import type { UdpSocket } from '../../../../src/platform/index.js';
import t from 'tap';
import { InvalidInputError, UnavailableError } from '../../../../src/lib/index.js';
import { MediaPortsExhaustedError, PortAllocator, type UdpBinder } from '../../../../src/media/rtp/index.js';

function fakeBinder(taken: Set<number> = new Set(), failWith?: string) {
  const open = new Set<number>();
  const bind: UdpBinder = async (_family, _address, port) => {
    if (failWith !== undefined) throw Object.assign(new Error(failWith), { code: failWith });
    if (taken.has(port) || open.has(port)) throw Object.assign(new Error('in use'), { code: 'EADDRINUSE' });
    open.add(port);
    return { close: () => Promise.resolve(void open.delete(port)) } as unknown as UdpSocket;
  };
  return { bind, open };
}

t.test('even RTP port, RTCP on the next one', async (t) => {
  const { bind, open } = fakeBinder();
  const alloc = new PortAllocator({ minPort: 30001, maxPort: 30100, bind });
  for (let i = 0; i < 20; i++) {
    const lease = await alloc.allocate({ family: 'IPv4' });
    t.equal(lease.rtpPort % 2, 0, `${lease.rtpPort} is even`);
    t.equal(lease.rtcpPort, lease.rtpPort + 1);
    t.ok(lease.rtpPort >= 30002 && lease.rtcpPort! <= 30100, 'inside the range');
  }
  t.equal(alloc.inUse(), 40);
  t.equal(open.size, 40);
});

t.test('rtcp-mux takes one port', async (t) => {
  const { bind } = fakeBinder();
  const alloc = new PortAllocator({ minPort: 40000, maxPort: 40009, bind });
  const lease = await alloc.allocate({ family: 'IPv6', rtcpMux: true });
  t.equal(lease.rtcpPort, undefined);
  t.equal(lease.rtcpSocket, undefined);
  t.equal(lease.address, '::', 'wildcard of the family');
  t.equal(alloc.inUse(), 1);
});

t.test('the starting slot is random, then ports are taken in turn', async (t) => {
  const { bind } = fakeBinder();
  const alloc = new PortAllocator({ minPort: 20000, maxPort: 20099, bind, random: () => 0.5 });
  const a = await alloc.allocate({ family: 'IPv4' });
  const b = await alloc.allocate({ family: 'IPv4' });
  t.equal(a.rtpPort, 20050);
  t.equal(b.rtpPort, 20052);
});

t.test('ports someone else holds are skipped', async (t) => {
  // 20000 free, 20003 (the RTCP of 20002) taken, 20004 taken: the second pair must be 20006/20007
  const { bind } = fakeBinder(new Set([20003, 20004]));
  const alloc = new PortAllocator({ minPort: 20000, maxPort: 20011, bind, random: () => 0 });
  t.equal((await alloc.allocate({ family: 'IPv4' })).rtpPort, 20000);
  t.equal((await alloc.allocate({ family: 'IPv4' })).rtpPort, 20006);
  t.equal(alloc.inUse(), 4, 'the half-bound pair at 20002 was given back');
});

t.test('a full range fails with a named error that names the range', async (t) => {
  const { bind } = fakeBinder(new Set([20002]));
  const alloc = new PortAllocator({ minPort: 20000, maxPort: 20005, bind });
  const leases = [await alloc.allocate({ family: 'IPv4', address: '127.0.0.1' }), await alloc.allocate({ family: 'IPv4', address: '127.0.0.1' })];
  t.same(leases.map((l) => l.rtpPort).sort(), [20000, 20004]);
  const err = await alloc.allocate({ family: 'IPv4', address: '127.0.0.1' }).catch((e: unknown) => e);
  t.ok(err instanceof MediaPortsExhaustedError, 'MediaPortsExhaustedError');
  t.ok(err instanceof UnavailableError, 'which is an UnavailableError (503)');
  t.match((err as Error).message, /20000-20005/);
  t.match((err as Error).message, /127\.0\.0\.1/);
  // the start slot is random, so the 20000 pair may have been the first or the second lease
  leases.find((l) => l.rtpPort === 20000)!.release();
  const again = await alloc.allocate({ family: 'IPv4' });
  t.equal(again.rtpPort, 20000, 'a released pair is used again');
});

t.test('release frees sockets and ports, twice is harmless', async (t) => {
  const { bind, open } = fakeBinder();
  const alloc = new PortAllocator({ minPort: 20000, maxPort: 20100, bind });
  const lease = await alloc.allocate({ family: 'IPv4' });
  lease.release();
  lease.release();
  t.equal(alloc.inUse(), 0);
  t.equal(open.size, 0);
});

t.test('concurrent allocations never share a port', async (t) => {
  const { bind } = fakeBinder();
  const alloc = new PortAllocator({ minPort: 20000, maxPort: 20019, bind, random: () => 0 });
  const leases = await Promise.all(Array.from({ length: 10 }, () => alloc.allocate({ family: 'IPv4' })));
  t.equal(new Set(leases.map((l) => l.rtpPort)).size, 10);
  await t.rejects(alloc.allocate({ family: 'IPv4' }), MediaPortsExhaustedError);
});

t.test('a bad bind address is not reported as exhaustion', async (t) => {
  const { bind } = fakeBinder(new Set(), 'EADDRNOTAVAIL');
  const alloc = new PortAllocator({ minPort: 20000, maxPort: 20100, bind });
  const err = await alloc.allocate({ family: 'IPv4', address: '10.255.255.1' }).catch((e: unknown) => e);
  t.ok(err instanceof UnavailableError);
  t.notOk(err instanceof MediaPortsExhaustedError);
  t.equal(alloc.inUse(), 0);
});

t.test('an impossible range is refused at construction', async (t) => {
  t.throws(() => new PortAllocator({ minPort: 5000, maxPort: 5000 }), InvalidInputError);
  t.throws(() => new PortAllocator({ minPort: 60000, maxPort: 70000 }), InvalidInputError);
});
