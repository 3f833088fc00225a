import { randomUUID } from 'node:crypto';
import type { Database } from '../platform/index.js';
import { domainProblem, ha1Pair, normalizeDomain, passwordProblem, usernameProblem, DISPLAY_NAME_MAX } from './credentials.js';
import type { ImportError, ImportOptions, ImportReport } from './types.js';

/** What the importer needs from the store: the database and a way to create a missing domain. */
export interface ImportTarget {
  db: Database;
  tenantId: string;
  /** owner tenant of every existing domain, read once before the import */
  domainOwners: Map<string, string>;
  /** creates the domain under tenantId unless it exists; resolves to the owner it ends up with */
  createDomain(name: string): Promise<string>;
}

interface Row {
  line: number;
  username: string;
  domain: string;
  ha1Md5: string;
  ha1Sha256: string;
  displayName: string | null;
}

const COLUMNS_PER_ROW = 7;
const DEFAULT_BATCH = 1000;
// 65535 bind parameters is PostgreSQL's protocol limit per statement
const MAX_BATCH = Math.floor(65535 / COLUMNS_PER_ROW);

type Parsed = { ok: true; username: string; domain: string; password: string; displayName: string | null } | { ok: false; reason: string } | { ok: 'blank' };

/**
 * One line of `user@domain;password[;display name]`. A password cannot contain ';' (there is no
 * quoting): a line with more fields is refused rather than guessed at. A leading "sip:" is accepted
 * so that AORs pasted from elsewhere work.
 */
export function parseImportLine(raw: string): Parsed {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.trim() === '' || text.trimStart().startsWith('#')) return { ok: 'blank' };
  const fields = text.split(';');
  if (fields.length < 2) return { ok: false, reason: 'expected user@domain;password' };
  if (fields.length > 3) return { ok: false, reason: "too many ';'-separated fields (passwords may not contain ';')" };
  let aor = (fields[0] ?? '').trim();
  if (aor.toLowerCase().startsWith('sip:')) aor = aor.slice(4);
  const at = aor.lastIndexOf('@');
  if (at < 0) return { ok: false, reason: 'expected user@domain before the first ;' };
  const username = aor.slice(0, at);
  const domain = normalizeDomain(aor.slice(at + 1));
  const password = fields[1] ?? '';
  const userProblem = usernameProblem(username);
  if (userProblem !== undefined) return { ok: false, reason: `username ${userProblem}` };
  const hostProblem = domainProblem(domain);
  if (hostProblem !== undefined) return { ok: false, reason: `domain ${hostProblem}` };
  const passProblem = passwordProblem(password);
  if (passProblem !== undefined) return { ok: false, reason: `password ${passProblem}` };
  const display = fields[2]?.trim();
  if (display !== undefined && display.length > DISPLAY_NAME_MAX) return { ok: false, reason: `display name must be at most ${DISPLAY_NAME_MAX} characters` };
  return { ok: true, username, domain, password, displayName: display === undefined || display === '' ? null : display };
}

/**
 * Bulk import: rows go to the database in multi-row INSERTs of `batchSize`, one transaction each,
 * so 100,000 users cost ~100 round trips instead of 100,000; a crash keeps the committed batches
 * and a rerun skips (or, with update, rewrites) what is already there.
 */
export async function importUsers(
  target: ImportTarget,
  lines: Iterable<string> | AsyncIterable<string>,
  options: ImportOptions,
): Promise<ImportReport & { touchedDomains: Set<string> }> {
  const batchSize = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? DEFAULT_BATCH));
  const update = options.update === true;
  const report = { imported: 0, updated: 0, skipped: 0, errors: [] as ImportError[], createdDomains: [] as string[], touchedDomains: new Set<string>() };
  let lineNo = 0;
  let batch = new Map<string, Row>();

  const flush = async (): Promise<void> => {
    if (batch.size === 0) return;
    const rows = [...batch.values()];
    batch = new Map();
    const counts = await insertBatch(target, rows, update);
    report.imported += counts.inserted;
    report.updated += counts.updated;
    report.skipped += rows.length - counts.inserted - counts.updated;
    for (const row of rows) report.touchedDomains.add(row.domain);
    options.onProgress?.({ lines: lineNo, imported: report.imported, updated: report.updated, skipped: report.skipped, errors: report.errors.length });
  };

  for await (const raw of lines) {
    lineNo++;
    const parsed = parseImportLine(raw);
    if (parsed.ok === 'blank') continue;
    if (parsed.ok === false) {
      report.errors.push({ line: lineNo, reason: parsed.reason });
      continue;
    }
    const ownerProblem = await ensureDomain(target, parsed.domain, report.createdDomains);
    if (ownerProblem !== undefined) {
      report.errors.push({ line: lineNo, reason: ownerProblem });
      continue;
    }
    const key = `${parsed.username}@${parsed.domain}`;
    // one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice, so a user repeated inside
    // a batch keeps its last line with update, its first without
    if (batch.has(key)) {
      report.skipped++;
      if (!update) continue;
      batch.delete(key);
    }
    batch.set(key, { line: lineNo, username: parsed.username, domain: parsed.domain, displayName: parsed.displayName, ...ha1Pair(parsed.username, parsed.domain, parsed.password) });
    if (batch.size >= batchSize) await flush();
  }
  await flush();
  return report;
}

async function ensureDomain(target: ImportTarget, domain: string, created: string[]): Promise<string | undefined> {
  let owner = target.domainOwners.get(domain);
  if (owner === undefined) {
    owner = await target.createDomain(domain);
    target.domainOwners.set(domain, owner);
    if (owner === target.tenantId) created.push(domain);
  }
  return owner === target.tenantId ? undefined : `domain ${domain} belongs to another tenant`;
}

async function insertBatch(target: ImportTarget, rows: Row[], update: boolean): Promise<{ inserted: number; updated: number }> {
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const base = params.length;
    params.push(randomUUID(), target.tenantId, row.domain, row.username, row.ha1Md5, row.ha1Sha256, row.displayName);
    tuples.push(`($${base + 1},$${base + 2},$${base + 3},$${base + 4},$${base + 5},$${base + 6},$${base + 7})`);
  }
  const conflict = update
    ? `ON CONFLICT (username, domain) DO UPDATE SET ha1_md5 = EXCLUDED.ha1_md5, ha1_sha256 = EXCLUDED.ha1_sha256,
         display_name = COALESCE(EXCLUDED.display_name, users.display_name)`
    : 'ON CONFLICT (username, domain) DO NOTHING';
  // xmax is 0 only on a freshly inserted row version: it tells inserted from updated rows
  const sql = `INSERT INTO users (id, tenant_id, domain, username, ha1_md5, ha1_sha256, display_name)
    VALUES ${tuples.join(',')} ${conflict} RETURNING (xmax::text = '0') AS inserted`;
  const result = await target.db.transaction((tx) => tx.query<{ inserted: boolean }>(sql, params));
  let inserted = 0;
  for (const r of result.rows) if (r.inserted) inserted++;
  return { inserted, updated: result.rows.length - inserted };
}
