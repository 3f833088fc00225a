import { ConflictError, InvalidInputError, silentLogger, type Logger } from '../lib/index.js';
import type { Bus, Database } from '../platform/index.js';
import { announceChange, isoTimestamp, jsonValue } from './telephony-store-support.js';
import type { DialPlan, DialPlanRuleError, DialPlanValidator } from './telephony-types.js';
import { requireTenant } from './trunk-store.js';

export interface DialPlanStoreOptions {
  db: Database;
  /**
   * checks a document before it is stored; the composition root passes the dial-plan engine's
   * validator (src/calls, which control may not import). Without one, any JSON object is taken.
   */
  validateDialPlan?: DialPlanValidator | undefined;
  bus?: Bus | undefined;
  logger?: Logger | undefined;
}

/** the largest document accepted, as JSON */
export const MAX_DIAL_PLAN_BYTES = 1_000_000;

/** A dial plan the validator refused: a 400 that lists every error with its rule. */
export class DialPlanInvalidError extends InvalidInputError {
  constructor(readonly errors: DialPlanRuleError[]) {
    const first = errors[0];
    super(`the dial plan is invalid: ${errors.length} error(s)${first !== undefined ? `, first in rule "${first.rule}" at ${first.path}: ${first.message}` : ''}`);
  }
}

/**
 * One dial plan per tenant: a JSON document of rules, replaced whole. Each change increments
 * the version; a writer that read version N may pass expectedVersion N to refuse (409) a plan
 * someone else changed meanwhile.
 */
export class DialPlanStore {
  private readonly db: Database;
  private readonly validate: DialPlanValidator | undefined;
  private readonly bus: Bus | undefined;
  private readonly log: Logger;

  constructor(options: DialPlanStoreOptions) {
    this.db = options.db;
    this.validate = options.validateDialPlan;
    this.bus = options.bus;
    this.log = (options.logger ?? silentLogger).child({ component: 'dial-plans' });
  }

  /** the tenant's plan; version 0 and an empty document when none was ever set */
  async get(tenantId: string): Promise<DialPlan> {
    const row = (await this.db.query('SELECT version, document, updated_at FROM dial_plans WHERE tenant_id = $1', [tenantId])).rows[0];
    if (row === undefined) return { tenantId, version: 0, document: { rules: [] }, updatedAt: null };
    return { tenantId, version: Number(row.version), document: jsonValue(row.document), updatedAt: isoTimestamp(row.updated_at) };
  }

  /** validates and replaces the plan; resolves with the new version */
  async put(tenantId: string, document: unknown, options: { expectedVersion?: number | undefined } = {}): Promise<DialPlan> {
    this.check(document);
    await requireTenant(this.db, tenantId);
    const json = JSON.stringify(document);
    const plan = await this.db.transaction(async (tx) => {
      const current = (await tx.query<{ version: number }>('SELECT version FROM dial_plans WHERE tenant_id = $1 FOR UPDATE', [tenantId])).rows[0];
      const version = Number(current?.version ?? 0);
      if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
        throw new ConflictError(`the dial plan is at version ${version}, not ${options.expectedVersion}; read it again`);
      }
      const row = (
        await tx.query(
          `INSERT INTO dial_plans (tenant_id, version, document) VALUES ($1, 1, $2)
           ON CONFLICT (tenant_id) DO UPDATE SET version = dial_plans.version + 1, document = EXCLUDED.document, updated_at = now()
           RETURNING version, document, updated_at`,
          [tenantId, json],
        )
      ).rows[0];
      if (row === undefined) throw new ConflictError('the dial plan vanished while being written');
      return { tenantId, version: Number(row.version), document: jsonValue(row.document), updatedAt: isoTimestamp(row.updated_at) };
    });
    await announceChange(this.bus, this.log, { kind: 'dialplan', action: 'updated', tenantId });
    return plan;
  }

  /** what put() would say about the document, without storing it */
  check(document: unknown): void {
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new DialPlanInvalidError([{ rule: '', path: '', message: 'the dial plan must be a JSON object' }]);
    }
    if (JSON.stringify(document).length > MAX_DIAL_PLAN_BYTES) {
      throw new DialPlanInvalidError([{ rule: '', path: '', message: `the dial plan must be at most ${MAX_DIAL_PLAN_BYTES} bytes as JSON` }]);
    }
    if (this.validate === undefined) return;
    const verdict = this.validate(document);
    if (!verdict.ok) throw new DialPlanInvalidError(verdict.errors.length > 0 ? verdict.errors : [{ rule: '', path: '', message: 'refused by the validator' }]);
  }
}
