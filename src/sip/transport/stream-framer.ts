/**
 * Message framing for stream transports (TCP, TLS), sans I/O.
 *
 * RFC 3261 §18.3: on a stream the only way to find the end of a message is the header section
 * (ended by an empty line) plus Content-Length, which is therefore mandatory on streams. RFC 5626
 * §4.4.1 adds the CRLF keepalive: a double CRLF "ping" between messages is answered by a single
 * CRLF "pong". RFC 3261 §7.5 lets CRLFs before a start line be ignored.
 *
 * `frameNext` is the pure core: given bytes it says what comes next. `StreamFramer` keeps the
 * bytes of one connection between reads and remembers how far it already scanned, so a message
 * delivered one byte at a time is not rescanned from the start on every byte.
 */

export interface FramerLimits {
  /** largest message accepted, header section plus body (bytes) */
  maxMessageSize: number;
  /** largest header section accepted before its blank line is seen (bytes) */
  maxHeaderSize: number;
}

export const DEFAULT_FRAMER_LIMITS: Readonly<FramerLimits> = { maxMessageSize: 65_535, maxHeaderSize: 65_535 };

export type FrameResult =
  /** more bytes are needed; `resumeAt` is where scanning may restart, `expectedLength` the full message length once known */
  | { kind: 'incomplete'; resumeAt: number; expectedLength: number | undefined }
  /** RFC 5626 §4.4.1 ping: 4 bytes, answer with a CRLF pong */
  | { kind: 'ping'; consumed: 4 }
  /** a lone CRLF (a pong, or padding before a start line): skip it */
  | { kind: 'crlf'; consumed: number }
  /** a complete message of `consumed` bytes */
  | { kind: 'message'; consumed: number }
  /**
   * broken framing. `consumed` covers what is known to belong to the bad message (its header
   * section when it was found); the stream cannot be trusted past it.
   */
  | { kind: 'error'; reason: string; consumed: number };

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const DIGITS = /^[0-9]+$/;

type LengthResult = { ok: true; length: number } | { ok: false; reason: string };

/**
 * Finds Content-Length (or its compact form `l`, RFC 3261 §7.3.3) in a header section, names
 * compared case-insensitively, folded continuation lines (§7.3.1) joined to their header.
 */
export function contentLengthOf(headerSection: string): LengthResult {
  const lines = headerSection.split('\r\n');
  let found: number | undefined;
  // line 0 is the start line
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    let value = line.slice(colon + 1);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1] ?? '')) value += ' ' + (lines[++i] ?? '');
    value = value.trim();
    if (value.startsWith('-')) return { ok: false, reason: `negative Content-Length: ${value.slice(0, 32)}` };
    if (!DIGITS.test(value)) return { ok: false, reason: `non-numeric Content-Length: ${value.slice(0, 32)}` };
    const length = value.length > 15 ? Number.MAX_SAFE_INTEGER : Number(value);
    if (found !== undefined && found !== length) return { ok: false, reason: 'conflicting Content-Length headers' };
    found = length;
  }
  if (found === undefined) return { ok: false, reason: 'missing Content-Length on a stream transport' };
  return { ok: true, length: found };
}

/**
 * What the bytes `buf[offset..]` hold next. `resumeAt` (an absolute index, from a previous
 * `incomplete` answer) skips the part already searched for the end of the header section.
 */
export function frameNext(buf: Buffer, offset: number, limits: FramerLimits, resumeAt = offset): FrameResult {
  const end = buf.length;
  if (offset >= end) return { kind: 'incomplete', resumeAt: offset, expectedLength: undefined };
  const first = buf[offset];
  if (first === CR || first === LF) {
    const keepalive = leadingCrlf(buf, offset);
    if (keepalive !== undefined) return keepalive;
  }
  const from = Math.max(offset, resumeAt - 3);
  const at = buf.indexOf(CRLFCRLF, from);
  if (at < 0) {
    if (end - offset > limits.maxHeaderSize) {
      return { kind: 'error', reason: `header section over ${limits.maxHeaderSize} bytes`, consumed: end - offset };
    }
    return { kind: 'incomplete', resumeAt: end, expectedLength: undefined };
  }
  const headerLength = at + 4 - offset;
  if (headerLength > limits.maxHeaderSize) {
    return { kind: 'error', reason: `header section over ${limits.maxHeaderSize} bytes`, consumed: headerLength };
  }
  const cl = contentLengthOf(buf.toString('latin1', offset, at));
  if (!cl.ok) return { kind: 'error', reason: cl.reason, consumed: headerLength };
  const total = headerLength + cl.length;
  if (total > limits.maxMessageSize) {
    return { kind: 'error', reason: `message of ${total} bytes over ${limits.maxMessageSize}`, consumed: headerLength };
  }
  // resume at the blank line itself so the next call finds the same header end, not one inside the body
  if (end - offset < total) return { kind: 'incomplete', resumeAt: at, expectedLength: total };
  return { kind: 'message', consumed: total };
}

/** CR/LF at the start: ping, lone CRLF, or undecided (undefined means "not a keepalive at all"). */
function leadingCrlf(buf: Buffer, offset: number): FrameResult | undefined {
  const avail = buf.length - offset;
  const b0 = buf[offset];
  // a bare LF before a start line is tolerated like a CRLF (RFC 3261 §7.5 leniency)
  if (b0 === LF) return { kind: 'crlf', consumed: 1 };
  // b0 is CR
  if (avail < 2) return { kind: 'incomplete', resumeAt: offset, expectedLength: undefined };
  if (buf[offset + 1] !== LF) return undefined;
  if (avail < 3) return { kind: 'incomplete', resumeAt: offset, expectedLength: undefined };
  if (buf[offset + 2] !== CR) return { kind: 'crlf', consumed: 2 };
  if (avail < 4) return { kind: 'incomplete', resumeAt: offset, expectedLength: undefined };
  if (buf[offset + 3] === LF) return { kind: 'ping', consumed: 4 };
  return { kind: 'crlf', consumed: 2 };
}

export type FramerEvent =
  | { kind: 'ping' }
  | { kind: 'message'; data: Buffer }
  | { kind: 'error'; reason: string; data: Buffer };

/**
 * Per-connection framing state. `push` a chunk as it arrives, then call `next` until it returns
 * undefined. Message buffers handed out never change afterwards: when a message lies inside one
 * received chunk it is a view of that chunk (no copy); when it spans chunks it is copied once.
 */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** true when `buf` is our own accumulation buffer (reused, so results are copied out of it) */
  private owned = false;
  private start = 0;
  private end = 0;
  private resumeAt = 0;
  private expected: number | undefined;
  private failed = false;

  constructor(private readonly limits: FramerLimits = DEFAULT_FRAMER_LIMITS) {}

  /** bytes held waiting for the rest of a message */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    if (this.start === this.end) {
      // nothing pending: borrow the chunk itself
      this.buf = chunk;
      this.owned = false;
      this.start = 0;
      this.end = chunk.length;
      this.resumeAt = 0;
      return;
    }
    this.append(chunk);
  }

  next(): FramerEvent | undefined {
    while (!this.failed && this.start < this.end) {
      if (this.expected !== undefined && this.end - this.start < this.expected) return undefined;
      const view = this.end === this.buf.length ? this.buf : this.buf.subarray(0, this.end);
      const r = frameNext(view, this.start, this.limits, Math.max(this.resumeAt, this.start));
      switch (r.kind) {
        case 'incomplete':
          this.resumeAt = r.resumeAt;
          this.expected = r.expectedLength;
          return undefined;
        case 'crlf':
          this.consume(r.consumed);
          continue;
        case 'ping':
          this.consume(r.consumed);
          return { kind: 'ping' };
        case 'message':
          return { kind: 'message', data: this.take(r.consumed) };
        case 'error': {
          // The stream is lost past this point (RFC 3261 §18.3): hand out what we have and stop.
          const data = this.take(r.consumed);
          this.failed = true;
          this.start = this.end = 0;
          this.buf = Buffer.alloc(0);
          return { kind: 'error', reason: r.reason, data };
        }
      }
    }
    return undefined;
  }

  private take(length: number): Buffer {
    const view = this.buf.subarray(this.start, this.start + length);
    this.consume(length);
    return this.owned ? Buffer.from(view) : view;
  }

  private consume(length: number): void {
    this.start += length;
    this.resumeAt = this.start;
    this.expected = undefined;
    if (this.start >= this.end) this.start = this.end = this.resumeAt = 0;
  }

  private append(chunk: Buffer): void {
    const pending = this.end - this.start;
    const needed = pending + chunk.length;
    if (this.owned && this.buf.length - this.end >= chunk.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return;
    }
    if (this.owned && this.buf.length >= needed) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(2 * this.buf.length, needed + 65_536), 4096));
      this.buf.copy(grown, 0, this.start, this.end);
      this.buf = grown;
      this.owned = true;
    }
    this.resumeAt -= this.start;
    this.start = 0;
    this.end = pending;
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }
}
