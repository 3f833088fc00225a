// A stand-in for createLocalMediaEngine, only to test the bench itself before (or without) the real
// engine: `node bench/media-relay/run.mjs --opencx-module bench/media-relay/mock-engine.mjs`.
// It relays RTP between two bridged endpoints, byte for byte, with one UDP socket per endpoint;
// it does not transcode (bridge of two different codecs answers transcoding: true but relays as is).
// Its figures say nothing about opencx.
import dgram from 'node:dgram';

// MOCK_DROP=0.01 drops 1 % of packets at random: a check that the bench sees loss
const dropRate = Number(process.env.MOCK_DROP ?? 0);

function sdpTarget(sdp) {
  const c = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1] ?? '127.0.0.1';
  const m = /^m=audio (\d+) RTP\/AVP ([\d ]+)/m.exec(sdp);
  if (!m) throw new Error('no m=audio line');
  return { address: c, port: Number(m[1]), pts: m[2].trim().split(/\s+/).map(Number) };
}

function sdpFor(port, pts, rtpmaps) {
  return ['v=0', `o=- ${port} 1 IN IP4 127.0.0.1`, 's=mock', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP ${pts.join(' ')}`, ...rtpmaps, 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

export function createLocalMediaEngine({ bindAddress, portMin, portMax }) {
  const endpoints = new Map();
  let nextPort = portMin;
  let nextId = 1;
  const bind = async () => {
    for (let tries = 0; tries <= portMax - portMin; tries++) {
      const port = nextPort;
      nextPort = nextPort >= portMax ? portMin : nextPort + 1;
      const sock = dgram.createSocket('udp4');
      const ok = await new Promise((resolve) => {
        sock.once('error', () => resolve(false));
        sock.bind(port, bindAddress, () => resolve(true));
      });
      if (ok) return sock;
      sock.close();
    }
    throw new Error('no free port');
  };
  return {
    async createEndpoint(req) {
      const sock = await bind();
      const id = `ep${nextId++}`;
      const ep = { id, sock, remote: req.remoteSdp ? sdpTarget(req.remoteSdp) : null, peer: null };
      sock.on('message', (msg) => {
        const p = ep.peer;
        if (dropRate > 0 && Math.random() < dropRate) return;
        if (p?.remote) p.sock.send(msg, p.remote.port, p.remote.address);
      });
      endpoints.set(id, ep);
      const port = sock.address().port;
      const localSdp = req.remoteSdp
        ? sdpFor(port, [ep.remote.pts[0]], ep.remote.pts[0] === 0 ? ['a=rtpmap:0 PCMU/8000'] : [])
        : sdpFor(port, [0, 111], ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:111 opus/48000/2']);
      return { id, localSdp };
    },
    async updateEndpoint(id, req) {
      const ep = endpoints.get(id);
      ep.remote = sdpTarget(req.remoteSdp);
      return { id, localSdp: '' };
    },
    async bridge(a, b) {
      const ea = endpoints.get(a);
      const eb = endpoints.get(b);
      ea.peer = eb;
      eb.peer = ea;
      return { bridgeId: `${a}-${b}`, transcoding: ea.remote.pts[0] !== eb.remote.pts[0] };
    },
    async deleteEndpoint(id) {
      const ep = endpoints.get(id);
      if (!ep) return;
      endpoints.delete(id);
      ep.sock.close();
    },
    async endpointStats(id) { return { id, kind: 'rtp', packetsSent: 0, packetsReceived: 0, packetsLost: 0, jitterMs: 0 }; },
    async close() { for (const id of [...endpoints.keys()]) await this.deleteEndpoint(id); },
  };
}
