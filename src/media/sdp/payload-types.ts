/**
 * Our payload type numbers. RFC 3264 §8.3.2: once a dynamic number names a codec in a session it
 * must keep naming it, so numbers are remembered across offer/answer rounds, including the
 * ones an offerer chose that we answered with (§6.1).
 */
import { codecInfo } from '../codec/registry.js';
import type { CodecName } from '../types.js';

export type PayloadKey = CodecName | 'telephone-event';

/** Conventional choices (what most UAs use) tried before falling back to the first free number. */
const PREFERRED_DYNAMIC: Readonly<Partial<Record<PayloadKey, number>>> = { opus: 111, 'telephone-event': 101, L16: 118 };
const DYNAMIC_FIRST = 96;
const DYNAMIC_LAST = 127;

export class PayloadTypeMap {
  private readonly byKey = new Map<PayloadKey, number>();
  /** numbers the remote bound to formats we do not speak: ours must not collide with them */
  private readonly reserved = new Set<number>();

  /** Our number for `key`, assigning one when it has none yet. */
  numberFor(key: PayloadKey): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const pt = this.pick(key);
    this.byKey.set(key, pt);
    return pt;
  }

  /** Adopt a number the remote chose (an offer we answer); whatever held it before lets go. */
  adopt(key: PayloadKey, pt: number): void {
    for (const [k, v] of this.byKey) if (v === pt && k !== key) this.byKey.delete(k);
    this.byKey.set(key, pt);
  }

  /** Keep away from numbers the remote uses for formats we ignore (G729, speex, ...). */
  reserve(pts: Iterable<number>): void {
    for (const pt of pts) this.reserved.add(pt);
  }

  snapshot(): { byKey: Map<PayloadKey, number>; reserved: Set<number> } {
    return { byKey: new Map(this.byKey), reserved: new Set(this.reserved) };
  }

  restore(from: { byKey: ReadonlyMap<PayloadKey, number>; reserved: ReadonlySet<number> }): void {
    this.byKey.clear();
    for (const [k, v] of from.byKey) this.byKey.set(k, v);
    this.reserved.clear();
    for (const pt of from.reserved) this.reserved.add(pt);
  }

  private pick(key: PayloadKey): number {
    const staticPt = key === 'telephone-event' ? undefined : codecInfo(key).staticPayloadType;
    if (staticPt !== undefined && !this.taken(staticPt)) return staticPt;
    const preferred = PREFERRED_DYNAMIC[key];
    if (preferred !== undefined && !this.taken(preferred)) return preferred;
    for (let pt = DYNAMIC_FIRST; pt <= DYNAMIC_LAST; pt++) if (!this.taken(pt)) return pt;
    // 32 dynamic numbers and five codecs plus telephone-event: cannot run out
    return DYNAMIC_LAST;
  }

  private taken(pt: number): boolean {
    if (this.reserved.has(pt)) return true;
    for (const v of this.byKey.values()) if (v === pt) return true;
    return false;
  }
}
