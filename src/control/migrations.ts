import type { Migration } from '../platform/index.js';
import { telephonyMigrations } from './telephony-migrations.js';
import { vxmlAppMigrations } from './vxml-app-migrations.js';

/**
 * Provisioning schema: plain PostgreSQL that PGlite runs unchanged (DESIGN.md: same SQL, same
 * migrations). Ids are text holding UUIDs rather than the uuid type so that ids never need a cast
 * and an unknown, malformed id is simply "not found" instead of a type error.
 *
 * Passwords are never stored: users keep only HA1 = H(username:realm:password) under MD5 and
 * SHA-256 (RFC 7616 §3.4.2, RFC 8760), with the realm equal to the user's domain.
 */
export const controlMigrations: Migration[] = [
  {
    id: 'control-0001-tenants',
    sql: `
      CREATE TABLE IF NOT EXISTS tenants (
        id          text PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    id: 'control-0002-domains',
    sql: `
      CREATE TABLE IF NOT EXISTS domains (
        name        text PRIMARY KEY,
        tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS domains_tenant_idx ON domains (tenant_id);`,
  },
  {
    id: 'control-0003-users',
    sql: `
      CREATE TABLE IF NOT EXISTS users (
        id            text PRIMARY KEY,
        tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        domain        text NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
        username      text NOT NULL,
        ha1_md5       text NOT NULL,
        ha1_sha256    text NOT NULL,
        display_name  text,
        enabled       boolean NOT NULL DEFAULT true,
        created_at    timestamptz NOT NULL DEFAULT now(),
        UNIQUE (username, domain)
      );
      -- listing a tenant's or a domain's users in page order
      CREATE INDEX IF NOT EXISTS users_tenant_idx ON users (tenant_id, domain, username);
      CREATE INDEX IF NOT EXISTS users_domain_idx ON users (domain, username);`,
  },
  {
    id: 'control-0004-api-keys',
    sql: `
      CREATE TABLE IF NOT EXISTS api_keys (
        id          text PRIMARY KEY,
        -- NULL: an operator key, allowed everywhere
        tenant_id   text REFERENCES tenants(id) ON DELETE CASCADE,
        hash        text NOT NULL UNIQUE,
        label       text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      );`,
  },
  // trunks, DIDs, dial plans, CDRs (telephony-migrations.ts)
  ...telephonyMigrations,
  // hosted VoiceXML applications (vxml-app-migrations.ts)
  ...vxmlAppMigrations,
];
