// Minimal bencode (the encoding of rtpengine's ng control protocol: "<cookie> <bencoded dict>").
// Strings decode to JS strings (latin1), which is all SDP and ng flags need.

export function encode(value) {
  const parts = [];
  const walk = (v) => {
    if (typeof v === 'number') { parts.push(`i${Math.trunc(v)}e`); return; }
    if (typeof v === 'string') { parts.push(`${Buffer.byteLength(v)}:`, v); return; }
    if (Buffer.isBuffer(v)) { parts.push(`${v.length}:`, v.toString('latin1')); return; }
    if (Array.isArray(v)) { parts.push('l'); for (const x of v) walk(x); parts.push('e'); return; }
    if (v && typeof v === 'object') {
      parts.push('d');
      for (const k of Object.keys(v).sort()) { if (v[k] === undefined) continue; walk(k); walk(v[k]); }
      parts.push('e');
      return;
    }
    if (typeof v === 'boolean') { walk(v ? 1 : 0); return; }
    throw new Error(`cannot bencode ${typeof v}`);
  };
  walk(value);
  return Buffer.from(parts.join(''), 'utf8');
}

/** Decode one bencoded value from buf at offset; returns [value, nextOffset]. Throws on bad input. */
export function decode(buf, offset = 0) {
  const c = buf[offset];
  if (c === 0x69) { // i<int>e
    const end = buf.indexOf(0x65, offset);
    if (end < 0) throw new Error('bencode: unterminated int');
    return [Number(buf.toString('latin1', offset + 1, end)), end + 1];
  }
  if (c === 0x6c || c === 0x64) { // l...e / d...e
    const isDict = c === 0x64;
    const out = isDict ? {} : [];
    let pos = offset + 1;
    while (buf[pos] !== 0x65) {
      if (pos >= buf.length) throw new Error('bencode: unterminated container');
      const [k, p1] = decode(buf, pos);
      if (isDict) {
        const [v, p2] = decode(buf, p1);
        out[k] = v;
        pos = p2;
      } else {
        out.push(k);
        pos = p1;
      }
    }
    return [out, pos + 1];
  }
  if (c >= 0x30 && c <= 0x39) { // <len>:<bytes>
    const colon = buf.indexOf(0x3a, offset);
    const len = Number(buf.toString('latin1', offset, colon));
    if (colon < 0 || !Number.isFinite(len) || colon + 1 + len > buf.length) throw new Error('bencode: bad string');
    return [buf.toString('utf8', colon + 1, colon + 1 + len), colon + 1 + len];
  }
  throw new Error(`bencode: unexpected byte ${c} at ${offset}`);
}
