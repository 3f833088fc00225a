/**
 * docker-compose.yml cannot rot: the environment it gives opencx must pass the config schema,
 * and the ports it publishes must be the ones that configuration listens on.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, validateEnv } from '../../src/platform/index.js';
import { repoRoot } from '../helpers/paths.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean> | string[];
  ports?: string[];
  depends_on?: unknown;
}

t.test('docker-compose.yml gives opencx a valid configuration', async (t) => {
  const compose = parse(readFileSync(path.join(repoRoot(), 'docker-compose.yml'), 'utf8')) as { services?: Record<string, ComposeService> };
  const services = compose.services ?? {};
  t.ok(services.opencx, 'has an opencx service');
  t.ok(services.redis, 'has a redis service');
  t.ok(services.postgres, 'has a postgres service');
  const rawEnv = services.opencx?.environment ?? {};
  const env: Record<string, string> = {};
  if (Array.isArray(rawEnv)) {
    for (const kv of rawEnv) {
      const i = kv.indexOf('=');
      env[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(rawEnv)) env[k] = String(v);
  }
  t.ok(Object.keys(env).length > 0, 'opencx gets its configuration from OPENCX_* variables');
  t.doesNotThrow(() => validateEnv(env), 'every variable is known and well-typed');
  const config = loadConfig({ env, flags: {} });
  t.equal(config.bus.kind, 'redis', 'the compose stack runs the Redis bus');
  t.match(config.bus.url ?? '', /redis:\/\/redis:/, 'pointing at the redis service');
  t.match(config.database.url ?? '', /postgres(ql)?:\/\/.*@postgres[:/]/, 'and the postgres service');

  const published = (services.opencx?.ports ?? []).join(' ');
  t.match(published, new RegExp(`${config.sip.udpPort}:${config.sip.udpPort}/udp`), 'SIP UDP port published');
  t.match(published, new RegExp(`${config.http.port}:${config.http.port}`), 'HTTP port published');
});
