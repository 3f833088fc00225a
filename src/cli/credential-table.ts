import { message } from '../sip/index.js';

const { detachedString } = message;

/**
 * Every user's credentials in a few flat allocations, for a directory preloaded into memory:
 * one Map from `user@domain` to a row number, and the HA1s as bytes (16 for MD5, 32 for SHA-256)
 * in one Buffer. As JavaScript objects with hex strings the same 100,000 users took ~28 MB of
 * heap (five objects and strings each, plus cons strings pinning their parts); here ~11 MB.
 * An HA1 that is not lower-case hex of the right length (never written by opencx, but the
 * database is not ours alone) is kept as given in a side map.
 */
export type HashName = 'MD5' | 'SHA-256';

interface Irregular {
  ha1Md5: string;
  ha1Sha256: string;
  enabled: boolean;
}

const MD5_BYTES = 16;
const SHA256_BYTES = 32;
const ROW_BYTES = MD5_BYTES + SHA256_BYTES;
const HEX = (bytes: number) => new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
const MD5_HEX = HEX(MD5_BYTES);
const SHA256_HEX = HEX(SHA256_BYTES);

/**
 * A CredentialTable as plain data, for another process (a SIP worker) to rebuild it without a
 * database: the keys in row order, the HA1 bytes and enabled flags as base64.
 */
export interface CredentialTableExport {
  keys: string[];
  ha1s: string;
  enabled: string;
  irregular: [key: string, ha1Md5: string, ha1Sha256: string, enabled: boolean][];
}

export class CredentialTable {
  private readonly rows = new Map<string, number>();
  private readonly irregular = new Map<string, Irregular>();
  private ha1s: Buffer;
  private enabled: Uint8Array;
  private used = 0;

  constructor(expected = 1024) {
    const capacity = Math.max(16, expected);
    this.ha1s = Buffer.alloc(capacity * ROW_BYTES);
    this.enabled = new Uint8Array(capacity);
  }

  get size(): number {
    return this.rows.size + this.irregular.size;
  }

  /** `key` is `user@domain` (domain lower-case); a key added twice keeps the last credentials */
  add(key: string, ha1Md5: string, ha1Sha256: string, enabled: boolean): void {
    // the key is often a concatenation or a slice of a database row: keep a flat copy only
    const own = detachedString(key);
    if (!MD5_HEX.test(ha1Md5) || !SHA256_HEX.test(ha1Sha256)) {
      this.rows.delete(own);
      this.irregular.set(own, { ha1Md5: detachedString(ha1Md5), ha1Sha256: detachedString(ha1Sha256), enabled });
      return;
    }
    this.irregular.delete(own);
    let row = this.rows.get(own);
    if (row === undefined) {
      row = this.used++;
      this.grow(this.used);
      this.rows.set(own, row);
    }
    this.ha1s.write(ha1Md5, row * ROW_BYTES, MD5_BYTES, 'hex');
    this.ha1s.write(ha1Sha256, row * ROW_BYTES + MD5_BYTES, SHA256_BYTES, 'hex');
    this.enabled[row] = enabled ? 1 : 0;
  }

  export(): CredentialTableExport {
    const keys = new Array<string>(this.used);
    for (const [key, row] of this.rows) keys[row] = key;
    return {
      keys,
      ha1s: this.ha1s.toString('base64', 0, this.used * ROW_BYTES),
      enabled: Buffer.from(this.enabled.buffer, this.enabled.byteOffset, this.used).toString('base64'),
      irregular: [...this.irregular].map(([key, v]) => [key, v.ha1Md5, v.ha1Sha256, v.enabled]),
    };
  }

  /** the table another process exported; throws on data of the wrong shape */
  static fromExport(data: CredentialTableExport): CredentialTable {
    const ha1s = Buffer.from(data.ha1s, 'base64');
    const enabled = Buffer.from(data.enabled, 'base64');
    const rows = data.keys.length;
    if (ha1s.length !== rows * ROW_BYTES || enabled.length !== rows) {
      throw new Error(`credential export does not add up: ${rows} keys, ${ha1s.length} HA1 bytes, ${enabled.length} flags`);
    }
    const table = new CredentialTable(rows);
    ha1s.copy(table.ha1s);
    table.enabled.set(enabled);
    table.used = rows;
    data.keys.forEach((key, row) => table.rows.set(key, row));
    for (const [key, ha1Md5, ha1Sha256, on] of data.irregular) table.irregular.set(key, { ha1Md5, ha1Sha256, enabled: on });
    return table;
  }

  has(key: string): boolean {
    return this.rows.has(key) || this.irregular.has(key);
  }

  /** the HA1 (lower-case hex) of an enabled user; undefined for an unknown or disabled one */
  ha1(key: string, hash: HashName): string | undefined {
    const row = this.rows.get(key);
    if (row === undefined) {
      const other = this.irregular.get(key);
      if (other === undefined || !other.enabled) return undefined;
      return hash === 'MD5' ? other.ha1Md5 : other.ha1Sha256;
    }
    if (this.enabled[row] !== 1) return undefined;
    const at = row * ROW_BYTES;
    return hash === 'MD5' ? this.ha1s.toString('hex', at, at + MD5_BYTES) : this.ha1s.toString('hex', at + MD5_BYTES, at + ROW_BYTES);
  }

  private grow(rows: number): void {
    if (rows <= this.enabled.length) return;
    const capacity = Math.max(rows, this.enabled.length * 2);
    const ha1s = Buffer.alloc(capacity * ROW_BYTES);
    this.ha1s.copy(ha1s);
    this.ha1s = ha1s;
    const enabled = new Uint8Array(capacity);
    enabled.set(this.enabled);
    this.enabled = enabled;
  }
}
