/**
 * werift fails a whole negotiation when one m-section has no codec it knows (a browser offering
 * video or a data channel next to audio). We answer audio only: the first audio m-section goes
 * to werift, every other one is rejected in the answer with port 0 (RFC 3264 §6, RFC 8829
 * §5.3.1) and left out of the BUNDLE group (RFC 8843 §7.3.3). Pure string work on SDP lines.
 */

interface SdpSections {
  session: string[];
  media: string[][];
}

export interface RejectedSection {
  /** position of the m-section in the offer */
  index: number;
  /** the offer's m= line */
  mLine: string;
  /** the offer's a=rtpmap (and a=sctp-port) lines, echoed so the formats stay described (RFC 3264 §6) */
  formats: string[];
  mid: string | undefined;
}

export interface FilteredOffer {
  /** the offer with only the kept audio m-section */
  sdp: string;
  rejected: RejectedSection[];
}

function split(sdp: string): SdpSections {
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0);
  const sections: SdpSections = { session: [], media: [] };
  for (const line of lines) {
    if (line.startsWith('m=')) sections.media.push([line]);
    else if (sections.media.length === 0) sections.session.push(line);
    else sections.media[sections.media.length - 1]?.push(line);
  }
  return sections;
}

function midOf(section: readonly string[]): string | undefined {
  return section.find((line) => line.startsWith('a=mid:'))?.slice('a=mid:'.length).trim();
}

function join(lines: readonly string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

/** keep the first audio m-section (undefined if there is none) */
export function filterOffer(sdp: string): FilteredOffer | undefined {
  const { session, media } = split(sdp);
  const keep = media.findIndex((section) => (section[0] ?? '').startsWith('m=audio '));
  if (keep < 0) return undefined;
  const kept = media[keep] ?? [];
  const rejected = media.flatMap((section, index) => (index === keep ? [] : [{ index, mLine: section[0] ?? '', mid: midOf(section), formats: section.filter((line) => line.startsWith('a=rtpmap:') || line.startsWith('a=sctp-port:')) }]));
  if (rejected.length === 0) return { sdp, rejected };
  const keptMid = midOf(kept);
  const sessionLines = session.map((line) => (line.startsWith('a=group:BUNDLE') ? `a=group:BUNDLE${keptMid === undefined ? '' : ` ${keptMid}`}` : line));
  return { sdp: join([...sessionLines, ...kept]), rejected };
}

/** a rejected m-section for the answer: same media and protocol, port 0, no media (RFC 3264 §6) */
function rejectedSection(section: RejectedSection): string[] {
  const parts = section.mLine.slice(2).split(' ');
  const lines = [`m=${parts[0] ?? 'audio'} 0 ${parts.slice(2).join(' ')}`, 'c=IN IP4 0.0.0.0'];
  if (section.mid !== undefined) lines.push(`a=mid:${section.mid}`);
  lines.push('a=inactive', ...section.formats);
  return lines;
}

/** put the rejected m-sections back into werift's answer at their offer positions */
export function restoreRejected(answerSdp: string, rejected: readonly RejectedSection[]): string {
  if (rejected.length === 0) return answerSdp;
  const { session, media } = split(answerSdp);
  const out = [...media];
  for (const section of [...rejected].sort((a, b) => a.index - b.index)) {
    out.splice(Math.min(section.index, out.length), 0, rejectedSection(section));
  }
  return join([...session, ...out.flat()]);
}
