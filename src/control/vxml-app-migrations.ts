import type { Migration } from '../platform/index.js';

/**
 * Hosted VoiceXML applications: plain PostgreSQL that PGlite runs unchanged. The ids sort after
 * the control-* and telephony-* migrations ("vxml-apps-" > "telephony-"), so tenants exist.
 *
 * Files live in the database rather than the blob store: an application is small (100 MiB at
 * most, usually a few hundred KiB), is written in one transaction with its size check, and is
 * copied, backed up and deleted (ON DELETE CASCADE) together with its tenant.
 */
export const vxmlAppMigrations: Migration[] = [
  {
    id: 'vxml-apps-0001-applications',
    sql: `
      CREATE TABLE IF NOT EXISTS vxml_apps (
        id           text PRIMARY KEY,
        tenant_id    text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name         text NOT NULL,
        description  text NOT NULL DEFAULT '',
        entry        text NOT NULL DEFAULT 'main.vxml',
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      );`,
  },
  {
    id: 'vxml-apps-0002-files',
    sql: `
      CREATE TABLE IF NOT EXISTS vxml_app_files (
        app_id        text NOT NULL REFERENCES vxml_apps(id) ON DELETE CASCADE,
        path          text NOT NULL,
        content       bytea NOT NULL,
        content_type  text NOT NULL,
        size          integer NOT NULL,
        -- SHA-256 of content, hexadecimal: the HTTP entity tag
        etag          text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (app_id, path)
      );`,
  },
];
