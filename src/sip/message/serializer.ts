/**
 * serializeMessage: canonical header names, one field per line, CRLF line ends, and a
 * Content-Length that always matches the body (RFC 3261 §7.4.2, §18.3, §20.14).
 */
import { HeaderList } from './header-list.js';
import { formatUri } from './uri.js';
import type { SipMessage } from './types.js';

function* entryFields(entries: Iterable<[string, string]>): Generator<{ name: string; value: string }> {
  for (const [name, value] of entries) yield { name, value };
}

export function serializeMessage(msg: SipMessage): Buffer {
  const out = serializeMessageText(msg);
  return typeof out === 'string' ? Buffer.from(out, 'utf8') : out;
}

/**
 * The same bytes as serializeMessage, as text when the message has no body (nearly every
 * response and most requests): a transport that takes text writes it out as UTF-8 without a
 * Buffer in between.
 */
export function serializeMessageText(msg: SipMessage): Buffer | string {
  const head = headText(msg);
  if (msg.body.length === 0) return head;
  return Buffer.concat([Buffer.from(head, 'utf8'), msg.body]);
}

/** start-line and header fields up to and including the blank line */
function headText(msg: SipMessage): string {
  let head =
    msg.kind === 'request'
      ? msg.method + ' ' + formatUri(msg.uri) + ' ' + msg.version + '\r\n'
      : msg.version + ' ' + String(msg.status) + ' ' + msg.reason + '\r\n';
  let wroteLength = false;
  const headers = msg.headers;
  // our own HeaderList is read field by field: no generator and no [name, value] pair per header
  const fields: Iterable<{ name: string; value: string }> = headers instanceof HeaderList ? headers.fields() : entryFields(headers.entries());
  for (const { name, value } of fields) {
    if (name === 'Content-Length') {
      // keep its position (the first one) but write the real length, once
      if (!wroteLength) head += 'Content-Length: ' + String(msg.body.length) + '\r\n';
      wroteLength = true;
      continue;
    }
    head += name + ': ' + value + '\r\n';
  }
  if (!wroteLength) head += 'Content-Length: ' + String(msg.body.length) + '\r\n';
  head += '\r\n';
  return head;
}
