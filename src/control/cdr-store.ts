import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../lib/index.js';
import type { Database, Queryable } from '../platform/index.js';
import { InvalidFieldError } from './errors.js';
import { isoTimestamp, optionalNumber, optionalString, optionalTimestamp, type Row } from './telephony-store-support.js';
import type { Cdr, CdrDirection, CdrKind, CdrPage, CdrQuery, HangupSide, NewCdr } from './telephony-types.js';
import { checkInteger, oneOf } from './telephony-validation.js';

export interface CdrStoreOptions {
  db: Database;
}

export const CDR_PAGE_DEFAULT = 100;
export const CDR_PAGE_MAX = 1000;

const KINDS: readonly CdrKind[] = ['call', 'leg'];
const DIRECTIONS: readonly CdrDirection[] = ['inbound', 'outbound', 'internal'];
const HANGUP_SIDES: readonly HangupSide[] = ['caller', 'callee', 'system'];

const COLUMNS = `id, tenant_id, kind, call_id, leg_id, direction, from_number, to_number, trunk_id, setup_at, answer_at, end_at,
  duration_seconds, billable_seconds, sip_status, reason, hangup_by, codec, packets_lost, jitter_ms, rtt_ms, recording_key, created_at`;

/**
 * Call detail records. DESIGN.md: CDRs must never be lost, so insert() resolves only after the
 * row is committed (the database adapter's commit is durable), and the caller acknowledges the
 * call's end to whoever sent it only then. A given id makes a retried insert idempotent.
 */
export class CdrStore {
  private readonly db: Database;

  constructor(options: CdrStoreOptions) {
    this.db = options.db;
  }

  /** durable before it resolves; inserting an id again returns the stored record unchanged */
  async insert(input: NewCdr): Promise<Cdr> {
    const [cdr] = await this.db.transaction((tx) => insertRows(tx, [input]));
    if (cdr === undefined) throw new NotFoundError('the CDR vanished while being written');
    return cdr;
  }

  /** a call's record and its legs' records in one transaction: all or none */
  async insertAll(inputs: readonly NewCdr[]): Promise<Cdr[]> {
    if (inputs.length === 0) return [];
    return this.db.transaction((tx) => insertRows(tx, inputs));
  }

  /** one page in setup-time order (newest first by default), with the cursor of the next */
  async query(q: CdrQuery = {}): Promise<CdrPage> {
    const limit = q.limit === undefined ? CDR_PAGE_DEFAULT : checkInteger(q.limit, 'limit', 1, CDR_PAGE_MAX);
    const order = q.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new InvalidFieldError('order', 'must be asc or desc');
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (q.tenantId !== undefined) add((p) => `tenant_id = ${p}`, q.tenantId);
    if (q.since !== undefined) add((p) => `setup_at >= ${p}::timestamptz`, time(q.since, 'since'));
    if (q.until !== undefined) add((p) => `setup_at < ${p}::timestamptz`, time(q.until, 'until'));
    if (q.number !== undefined) add((p) => `(from_number = ${p} OR to_number = ${p})`, q.number);
    if (q.trunkId !== undefined) add((p) => `trunk_id = ${p}`, q.trunkId);
    if (q.kind !== undefined) add((p) => `kind = ${p}`, oneOf(KINDS, q.kind, 'kind'));
    if (q.cursor !== undefined) {
      const after = decodeCursor(q.cursor, order);
      params.push(after.t, after.id);
      where.push(`(setup_at, id) ${order === 'desc' ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::text)`);
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const rows = (await this.db.query(`SELECT ${COLUMNS} FROM cdrs ${clause} ORDER BY setup_at ${dir}, id ${dir} LIMIT ${limit + 1}`, params)).rows;
    const items = rows.slice(0, limit).map(toCdr);
    const last = items[items.length - 1];
    const nextCursor = rows.length > limit && last !== undefined ? encodeCursor({ t: last.setupAt, id: last.id, o: order }) : null;
    return { items, nextCursor };
  }

  /** the call's records: the call record first, then its legs in setup order */
  async forCall(callId: string, tenantId?: string): Promise<Cdr[]> {
    const result =
      tenantId === undefined
        ? await this.db.query(`SELECT ${COLUMNS} FROM cdrs WHERE call_id = $1 ORDER BY kind = 'leg', setup_at, id`, [callId])
        : await this.db.query(`SELECT ${COLUMNS} FROM cdrs WHERE call_id = $1 AND tenant_id = $2 ORDER BY kind = 'leg', setup_at, id`, [callId, tenantId]);
    return result.rows.map(toCdr);
  }
}

async function insertRows(tx: Queryable, inputs: readonly NewCdr[]): Promise<Cdr[]> {
  const out: Cdr[] = [];
  for (const [i, input] of inputs.entries()) {
    const values = cdrValues(input, inputs.length > 1 ? `${i}.` : '');
    const placeholders = values.map((_, n) => `$${n + 1}`).join(', ');
    const inserted = (await tx.query(`INSERT INTO cdrs (${INSERT_COLUMNS.join(', ')}) VALUES (${placeholders}) ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`, values)).rows[0];
    // already there: a retry of an insert whose answer was lost
    const row = inserted ?? (await tx.query(`SELECT ${COLUMNS} FROM cdrs WHERE id = $1`, [values[0]])).rows[0];
    if (row === undefined) throw new NotFoundError(`CDR ${String(values[0])} vanished while being written`);
    out.push(toCdr(row));
  }
  return out;
}

const INSERT_COLUMNS = [
  'id',
  'tenant_id',
  'kind',
  'call_id',
  'leg_id',
  'direction',
  'from_number',
  'to_number',
  'trunk_id',
  'setup_at',
  'answer_at',
  'end_at',
  'duration_seconds',
  'billable_seconds',
  'sip_status',
  'reason',
  'hangup_by',
  'codec',
  'packets_lost',
  'jitter_ms',
  'rtt_ms',
  'recording_key',
];

function text(value: unknown, field: string, max: number, required: boolean): string | null {
  if (value === undefined || value === null) {
    if (required) throw new InvalidFieldError(field, 'is required');
    return null;
  }
  if (typeof value !== 'string' || (required && value === '')) throw new InvalidFieldError(field, 'must be a non-empty string');
  if (value.length > max) throw new InvalidFieldError(field, `must be at most ${max} characters`);
  return value;
}

function time(value: Date | string, field: string): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidFieldError(field, 'must be an ISO 8601 time');
  return d.toISOString();
}

function optionalTime(value: Date | string | null | undefined, field: string): string | null {
  return value === undefined || value === null ? null : time(value, field);
}

function measure(value: number | null | undefined, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new InvalidFieldError(field, 'must be a number, 0 or more');
  return value;
}

/** the row's values in INSERT_COLUMNS order; prefix names the record in a batch ("2.setupAt") */
function cdrValues(c: NewCdr, prefix: string): unknown[] {
  if (typeof c !== 'object' || c === null) throw new InvalidFieldError(`${prefix}cdr`, 'must be an object');
  const f = (name: string) => `${prefix}${name}`;
  const setupAt = time(c.setupAt, f('setupAt'));
  const answerAt = optionalTime(c.answerAt, f('answerAt'));
  const endAt = optionalTime(c.endAt, f('endAt'));
  if (answerAt !== null && answerAt < setupAt) throw new InvalidFieldError(f('answerAt'), 'must not be before setupAt');
  if (endAt !== null && endAt < setupAt) throw new InvalidFieldError(f('endAt'), 'must not be before setupAt');
  if (endAt !== null && answerAt !== null && endAt < answerAt) throw new InvalidFieldError(f('endAt'), 'must not be before answerAt');
  const ms = (from: string, to: string) => Date.parse(to) - Date.parse(from);
  // billing rounds an answered call's started second up; the duration is rounded to the nearest
  const duration = c.durationSeconds !== undefined ? checkInteger(c.durationSeconds, f('durationSeconds'), 0, 2 ** 31 - 1) : endAt === null ? 0 : Math.round(ms(setupAt, endAt) / 1000);
  const billable =
    c.billableSeconds !== undefined ? checkInteger(c.billableSeconds, f('billableSeconds'), 0, 2 ** 31 - 1) : endAt === null || answerAt === null ? 0 : Math.ceil(ms(answerAt, endAt) / 1000);
  const kind = oneOf(KINDS, c.kind, f('kind'));
  const legId = text(c.legId, f('legId'), 256, false);
  if (kind === 'leg' && legId === null) throw new InvalidFieldError(f('legId'), 'is required for a leg record');
  return [
    text(c.id ?? randomUUID(), f('id'), 100, true),
    text(c.tenantId, f('tenantId'), 100, true),
    kind,
    text(c.callId, f('callId'), 256, true),
    legId,
    oneOf(DIRECTIONS, c.direction, f('direction')),
    text(c.fromNumber, f('fromNumber'), 128, false),
    text(c.toNumber, f('toNumber'), 128, false),
    text(c.trunkId, f('trunkId'), 100, false),
    setupAt,
    answerAt,
    endAt,
    duration,
    billable,
    c.sipStatus === undefined || c.sipStatus === null ? null : checkInteger(c.sipStatus, f('sipStatus'), 100, 699),
    text(c.reason, f('reason'), 512, false),
    c.hangupBy === undefined || c.hangupBy === null ? null : oneOf(HANGUP_SIDES, c.hangupBy, f('hangupBy')),
    text(c.codec, f('codec'), 64, false),
    // RFC 3550 §6.4.1: the cumulative number lost is signed (duplicates can make it negative)
    c.packetsLost === undefined || c.packetsLost === null ? null : checkInteger(c.packetsLost, f('packetsLost'), -(2 ** 23), 2 ** 23 - 1),
    measure(c.jitterMs, f('jitterMs')),
    measure(c.rttMs, f('rttMs')),
    text(c.recordingKey, f('recordingKey'), 1024, false),
  ];
}

interface Cursor {
  t: string;
  id: string;
  o: 'asc' | 'desc';
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string, order: 'asc' | 'desc'): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.t === 'string' && typeof c.id === 'string' && c.o === order && !Number.isNaN(Date.parse(c.t))) return { t: c.t, id: c.id, o: c.o };
  } catch {
    // reported below
  }
  throw new InvalidFieldError('cursor', 'is not a cursor this query returned (same order)');
}

function toCdr(row: Row): Cdr {
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    kind: row.kind as CdrKind,
    callId: String(row.call_id),
    legId: optionalString(row.leg_id),
    direction: row.direction as CdrDirection,
    fromNumber: optionalString(row.from_number),
    toNumber: optionalString(row.to_number),
    trunkId: optionalString(row.trunk_id),
    setupAt: isoTimestamp(row.setup_at),
    answerAt: optionalTimestamp(row.answer_at),
    endAt: optionalTimestamp(row.end_at),
    durationSeconds: Number(row.duration_seconds),
    billableSeconds: Number(row.billable_seconds),
    sipStatus: optionalNumber(row.sip_status),
    reason: optionalString(row.reason),
    hangupBy: row.hangup_by === null || row.hangup_by === undefined ? null : (row.hangup_by as HangupSide),
    codec: optionalString(row.codec),
    packetsLost: optionalNumber(row.packets_lost),
    jitterMs: optionalNumber(row.jitter_ms),
    rttMs: optionalNumber(row.rtt_ms),
    recordingKey: optionalString(row.recording_key),
    createdAt: isoTimestamp(row.created_at),
  };
}
