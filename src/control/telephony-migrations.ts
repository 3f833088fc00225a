import type { Migration } from '../platform/index.js';

/**
 * Telephony provisioning schema: trunks, DIDs, dial plans and CDRs. Plain PostgreSQL that PGlite
 * runs unchanged; the ids sort after the control-* migrations, whose tenants table they reference.
 *
 * Lists and documents (ACLs, gateways, targets, dial plans) are jsonb: they are read and written
 * whole and never queried inside, so a child table would buy nothing but joins.
 */
export const telephonyMigrations: Migration[] = [
  {
    id: 'telephony-0001-trunks',
    sql: `
      CREATE TABLE IF NOT EXISTS trunks (
        id                    text PRIMARY KEY,
        tenant_id             text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name                  text NOT NULL,
        direction             text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'both')),
        acl                   jsonb NOT NULL DEFAULT '[]',
        -- inbound digest: HA1 only (RFC 7616 §3.4.2, RFC 8760), never the password
        inbound_username      text,
        inbound_realm         text,
        inbound_ha1_md5       text,
        inbound_ha1_sha256    text,
        gateways              jsonb NOT NULL DEFAULT '[]',
        balancing             text NOT NULL CHECK (balancing IN ('failover', 'round-robin', 'weighted')),
        -- outbound digest: the password itself is stored because answering a carrier's
        -- challenge needs it (an HA1 would do only for one realm known in advance); the API
        -- never returns it
        outbound_username     text,
        outbound_password     text,
        outbound_realm        text,
        caller_id_style       text NOT NULL CHECK (caller_id_style IN ('pai', 'rpid', 'both', 'none')),
        number_format         text NOT NULL CHECK (number_format IN ('e164', 'national', 'international-00', 'digits-only')),
        country_code          text,
        options_ping_seconds  integer NOT NULL DEFAULT 0,
        max_concurrent_calls  integer,
        calls_per_second      double precision,
        enabled               boolean NOT NULL DEFAULT true,
        created_at            timestamptz NOT NULL DEFAULT now(),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      );`,
  },
  {
    id: 'telephony-0002-dids',
    sql: `
      CREATE TABLE IF NOT EXISTS dids (
        id          text PRIMARY KEY,
        tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        number      text NOT NULL,
        target      jsonb NOT NULL,
        -- a trunk that DIDs are restricted to cannot be deleted (the store answers 409 first)
        trunk_id    text REFERENCES trunks(id) ON DELETE RESTRICT,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, number)
      );
      -- inbound routing looks a called number up across tenants
      CREATE INDEX IF NOT EXISTS dids_number_idx ON dids (number);
      CREATE INDEX IF NOT EXISTS dids_trunk_idx ON dids (trunk_id);`,
  },
  {
    id: 'telephony-0003-dial-plans',
    sql: `
      CREATE TABLE IF NOT EXISTS dial_plans (
        tenant_id   text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        version     integer NOT NULL,
        document    jsonb NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    id: 'telephony-0004-cdrs',
    sql: `
      -- no foreign keys: a CDR outlives the trunk and even the tenant it names (billing history)
      CREATE TABLE IF NOT EXISTS cdrs (
        id                text PRIMARY KEY,
        tenant_id         text NOT NULL,
        kind              text NOT NULL CHECK (kind IN ('call', 'leg')),
        call_id           text NOT NULL,
        leg_id            text,
        direction         text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
        from_number       text,
        to_number         text,
        trunk_id          text,
        setup_at          timestamptz NOT NULL,
        answer_at         timestamptz,
        end_at            timestamptz,
        duration_seconds  integer NOT NULL DEFAULT 0,
        billable_seconds  integer NOT NULL DEFAULT 0,
        sip_status        integer,
        reason            text,
        hangup_by         text CHECK (hangup_by IN ('caller', 'callee', 'system')),
        codec             text,
        packets_lost      integer,
        jitter_ms         double precision,
        rtt_ms            double precision,
        recording_key     text,
        created_at        timestamptz NOT NULL DEFAULT now()
      );
      -- keyset paging in time order, per tenant and across tenants
      CREATE INDEX IF NOT EXISTS cdrs_tenant_time_idx ON cdrs (tenant_id, setup_at, id);
      CREATE INDEX IF NOT EXISTS cdrs_time_idx ON cdrs (setup_at, id);
      CREATE INDEX IF NOT EXISTS cdrs_call_idx ON cdrs (call_id);
      CREATE INDEX IF NOT EXISTS cdrs_from_idx ON cdrs (from_number, setup_at);
      CREATE INDEX IF NOT EXISTS cdrs_to_idx ON cdrs (to_number, setup_at);
      CREATE INDEX IF NOT EXISTS cdrs_trunk_idx ON cdrs (trunk_id, setup_at);`,
  },
];
