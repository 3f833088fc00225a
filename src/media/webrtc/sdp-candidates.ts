/**
 * Trimming werift's gathered candidates to the one interface we serve on. werift gathers on
 * every host address but binds all its sockets to the configured interface, so candidates
 * naming other addresses would point at sockets that are not there.
 */
import sdpTransform from 'sdp-transform';

interface CandidateFields {
  address: string;
  port: number;
  udp: boolean;
}

function candidateFields(line: string): CandidateFields {
  // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> (RFC 8839 §5.1)
  const fields = line.slice('a=candidate:'.length).split(' ');
  return { address: fields[4] ?? '', port: Number(fields[5]), udp: (fields[2] ?? '').toLowerCase() === 'udp' };
}

/**
 * The SDP with only UDP candidates on bindAddress, and that candidate as the default one in the
 * m=, c= and a=rtcp lines (RFC 8839 §4.2.1.1), so a plain SIP peer that reads c=/m= sees the
 * right address too.
 */
export function keepCandidatesOn(sdp: string, bindAddress: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const family = bindAddress.includes(':') ? 'IP6' : 'IP4';
  const kept = sdp.split(/\r?\n/).filter((line) => {
    if (!line.startsWith('a=candidate:')) return true;
    const c = candidateFields(line);
    return c.udp && c.address === bindAddress;
  });
  const first = kept.find((line) => line.startsWith('a=candidate:'));
  const port = first === undefined ? undefined : candidateFields(first).port;
  return kept
    .map((line) => {
      if (line.startsWith('c=IN ')) return `c=IN ${family} ${bindAddress}`;
      if (port === undefined) return line;
      if (line.startsWith('m=audio ')) return line.replace(/^m=audio \d+/, `m=audio ${port}`);
      if (line.startsWith('a=rtcp:')) return `a=rtcp:${port} IN ${family} ${bindAddress}`;
      return line;
    })
    .join(eol);
}

/** the port of the first audio host candidate on bindAddress, if any */
export function localCandidateAddress(sdp: string, bindAddress: string): number | undefined {
  const session = sdpTransform.parse(sdp);
  for (const media of session.media) {
    if (media.type !== 'audio') continue;
    const candidate = (media.candidates ?? []).find((c) => c.ip === bindAddress && c.transport.toLowerCase() === 'udp');
    if (candidate !== undefined) return candidate.port;
  }
  return undefined;
}
