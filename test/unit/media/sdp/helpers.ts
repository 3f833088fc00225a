/** Shared bits of the SDP tests: fixtures in either line ending and a session with our usual options. */
import { readFileSync } from 'node:fs';
import { fixture } from '../../../helpers/paths.js';
import { SdpSession, type SdpSessionOptions } from '../../../../src/media/sdp/index.js';

export type LineEnding = 'LF' | 'CRLF';
export const LINE_ENDINGS: readonly LineEnding[] = ['LF', 'CRLF'];

/** A fixture with its line endings forced to `eol` (files are stored with LF). */
export function loadSdp(name: string, eol: LineEnding = 'LF'): string {
  const text = readFileSync(fixture(import.meta.url, 'fixtures/' + name), 'latin1').replace(/\r\n/g, '\n');
  return eol === 'CRLF' ? text.replace(/\n/g, '\r\n') : text;
}

/** SIPp's built-in uac SDP with its keywords substituted as SIPp does at send time. */
export function sippOffer(eol: LineEnding = 'LF'): string {
  return loadSdp('sipp-uac.sdp', eol)
    .replace(/\[local_ip_type\]|\[media_ip_type\]/g, '4')
    .replace(/\[local_ip\]|\[media_ip\]/g, '192.0.2.99')
    .replace(/\[media_port\]/g, '6000');
}

export const OUR_ADDRESS = '192.0.2.1';
export const OUR_PORT = 40000;

export function newSession(overrides: Partial<SdpSessionOptions> = {}): SdpSession {
  return new SdpSession({
    address: OUR_ADDRESS,
    port: OUR_PORT,
    family: 'IPv4',
    codecs: ['opus', 'G722', 'PCMU', 'PCMA'],
    telephoneEvent: true,
    sessionId: '424242',
    ...overrides,
  });
}

/** The m= lines of an SDP, as written. */
export function mLines(sdp: string): string[] {
  return sdp.split(/\r\n|\n/).filter((l) => l.startsWith('m='));
}

/** The o= version of an SDP. */
export function originVersion(sdp: string): number {
  const o = sdp.split(/\r\n|\n/).find((l) => l.startsWith('o='));
  return Number(o?.split(' ')[2]);
}

/** The a= lines of the m= section at `index`. */
export function sectionAttributes(sdp: string, index: number): string[] {
  const out: string[] = [];
  let section = -1;
  for (const line of sdp.split(/\r\n|\n/)) {
    if (line.startsWith('m=')) section++;
    else if (section === index && line.startsWith('a=')) out.push(line);
  }
  return out;
}
