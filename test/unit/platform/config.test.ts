import t, { type Test } from 'tap';
import { ConfigError } from '../../../src/lib/index.js';
import { defaultConfig, envVarNames, envVariables, loadConfig, validateEnv, ENV_ALLOW_LIST, ROLES } from '../../../src/platform/index.js';
import { fixture } from '../../helpers/paths.js';

const file = (name: string): string => fixture(import.meta.url, `fixtures/${name}`);

function configError(t: Test, fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    t.type(err, ConfigError);
    return err as ConfigError;
  }
  t.fail('expected a ConfigError');
  return new ConfigError('none', undefined);
}

t.test('defaults', async (t) => {
  const c = loadConfig({ env: {} });
  t.same(c, defaultConfig());
  t.equal(c.dataDir, './opencx-data');
  t.same(c.roles, [...ROLES]);
  t.equal(c.log.level, 'info');
  t.same(c.http, { bind: '0.0.0.0', port: 8080 });
  t.equal(c.sip.ipv6, false);
  t.equal(c.sip.udpPort, 5060);
  t.equal(c.sip.tlsPort, 5061);
  t.equal(c.sip.wsPort, 5066);
  t.equal(c.sip.wssPort, 7443);
  t.same(c.sip.transports, ['udp', 'tcp', 'tls', 'ws', 'wss']);
  t.same(c.sip.tls, {});
  t.same(c.sip.timers, { t1: 500, t2: 4000, t4: 5000 });
  t.equal(c.sip.maxMessageSize, 65535);
  t.equal(c.sip.idleTimeoutMs, 300_000);
  t.equal(c.sip.maxConnectionsPerSource, 256);
  t.equal(c.sip.shutdownGraceMs, 3000);
  t.equal(c.sip.workers, 1);
  t.equal(c.sip.advertisedHost, undefined);
  t.same(c.bus, { kind: 'memory' });
  t.same(c.database, {});
  t.same(c.blobs, { kind: 'local' });
  t.same(c.metrics, { enabled: true });
});

t.test('YAML file layer, partial sections keep their other defaults', async (t) => {
  const c = loadConfig({ file: file('good.yaml'), env: {} });
  t.equal(c.dataDir, '/var/lib/opencx');
  t.same(c.roles, ['sip', 'media']);
  t.equal(c.log.level, 'debug');
  t.equal(c.sip.udpPort, 15060);
  t.same(c.sip.transports, ['udp', 'tcp']);
  t.same(c.sip.timers, { t1: 250, t2: 4000, t4: 5000 });
  t.equal(c.sip.tlsPort, 5061);
  t.same(loadConfig({ file: file('empty.yaml'), env: {} }), defaultConfig(), 'an empty file is the defaults');
});

t.test('precedence: file < env < flags', async (t) => {
  const env = { OPENCX_SIP__UDP_PORT: '25060', OPENCX_LOG__LEVEL: 'warn', OPENCX_DATA_DIR: '/data' };
  const c = loadConfig({ file: file('good.yaml'), env, flags: { log: { level: 'error' } } });
  t.equal(c.sip.udpPort, 25060, 'env beats file');
  t.equal(c.sip.tcpPort, 15060, 'file value kept where env is silent');
  t.equal(c.log.level, 'error', 'flag beats env');
  t.equal(c.dataDir, '/data');
  const roles = loadConfig({ file: file('good.yaml'), env: { OPENCX_ROLES: 'calls' }, flags: {} });
  t.same(roles.roles, ['calls'], 'lists replace, they do not merge');
});

t.test('env coercion', async (t) => {
  const c = loadConfig({
    env: {
      OPENCX_SIP__UDP_PORT: '0',
      OPENCX_SIP__IPV6: 'yes',
      OPENCX_ROLES: ' sip , media ,',
      OPENCX_BUS__KIND: 'redis',
      OPENCX_BUS__URL: 'redis://127.0.0.1:6379/0',
      OPENCX_SIP__TRANSPORTS: 'udp,wss',
      OPENCX_SIP__TLS__CERT_FILE: '/certs/a.pem',
      OPENCX_METRICS__ENABLED: 'false',
      OPENCX_SIP__TIMERS__T1: '100',
      OPENCX_BLOBS__FORCE_PATH_STYLE: 'on',
      OPENCX_SIP__ADVERTISED_HOST: '',
      PATH: '/usr/bin',
      OPENCX_CONFORMANCE_DIR: '/x',
    },
  });
  t.equal(c.sip.udpPort, 0, 'port 0 is allowed');
  t.equal(c.sip.ipv6, true);
  t.same(c.roles, ['sip', 'media']);
  t.same(c.bus, { kind: 'redis', url: 'redis://127.0.0.1:6379/0' });
  t.same(c.sip.transports, ['udp', 'wss']);
  t.equal(c.sip.tls.certFile, '/certs/a.pem');
  t.equal(c.metrics.enabled, false);
  t.equal(c.sip.timers.t1, 100);
  t.equal(c.blobs.forcePathStyle, true);
  t.equal(c.sip.advertisedHost, undefined, 'an empty value counts as unset');
});

t.test('unknown keys are named with their path and source', async (t) => {
  const fromFile = configError(t, () => loadConfig({ file: file('unknown-key.yaml'), env: {} }));
  t.equal(fromFile.key, 'sip.udpport');
  t.match(fromFile.message, /unknown key "sip\.udpport"/);
  t.match(fromFile.message, /unknown-key\.yaml/);

  const fromFlag = configError(t, () => loadConfig({ env: {}, flags: { sip: { timers: { t3: 1 } } } as never }));
  t.equal(fromFlag.key, 'sip.timers.t3');
  t.match(fromFlag.message, /flag/);

  const topLevel = configError(t, () => loadConfig({ env: {}, flags: { nonsense: { deep: 1 } } as never }));
  t.equal(topLevel.key, 'nonsense');

  const fromEnv = configError(t, () => loadConfig({ env: { OPENCX_SIP__UDPPORT: '1' } }));
  t.equal(fromEnv.key, 'OPENCX_SIP__UDPPORT');
  t.match(fromEnv.message, /unknown environment variable OPENCX_SIP__UDPPORT/);
  t.match(fromEnv.message, /did you mean OPENCX_SIP__UDP_PORT/);
});

t.test('wrong types are named with their path and source', async (t) => {
  const fromFile = configError(t, () => loadConfig({ file: file('wrong-type.yaml'), env: {} }));
  t.equal(fromFile.key, 'http.port');
  t.match(fromFile.message, /http\.port: Expected number, received string/);
  t.match(fromFile.message, /wrong-type\.yaml/);

  const notNumber = configError(t, () => loadConfig({ env: { OPENCX_SIP__UDP_PORT: '50x' } }));
  t.equal(notNumber.key, 'sip.udpPort');
  t.match(notNumber.message, /OPENCX_SIP__UDP_PORT/);

  const range = configError(t, () => loadConfig({ env: { OPENCX_SIP__UDP_PORT: '70000' } }));
  t.equal(range.key, 'sip.udpPort');
  t.match(range.message, /from env OPENCX_SIP__UDP_PORT/);

  const bool = configError(t, () => loadConfig({ env: { OPENCX_SIP__IPV6: 'maybe' } }));
  t.equal(bool.key, 'sip.ipv6');

  const role = configError(t, () => loadConfig({ env: { OPENCX_ROLES: 'sip,dialer' } }));
  t.equal(role.key, 'roles.1');
  t.match(role.message, /OPENCX_ROLES/);

  const workers = configError(t, () => loadConfig({ env: {}, flags: { sip: { workers: 0 } } }));
  t.equal(workers.key, 'sip.workers');
  t.match(workers.message, /flag --sip\.workers/);

  const level = configError(t, () => loadConfig({ env: { OPENCX_LOG__LEVEL: 'loud' } }));
  t.equal(level.key, 'log.level');

  const timers = configError(t, () => loadConfig({ env: {}, flags: { sip: { timers: { t1: 5000, t2: 4000 } } } }));
  t.equal(timers.key, 'sip.timers.t1');
});

t.test('dependent keys: redis bus needs a url, s3 blobs need a bucket', async (t) => {
  const bus = configError(t, () => loadConfig({ env: { OPENCX_BUS__KIND: 'redis' } }));
  t.equal(bus.key, 'bus.url');
  t.match(bus.message, /required when bus\.kind is "redis"/);
  const url = configError(t, () => loadConfig({ env: { OPENCX_BUS__KIND: 'redis', OPENCX_BUS__URL: 'http://x' } }));
  t.equal(url.key, 'bus.url');
  const s3 = configError(t, () => loadConfig({ env: { OPENCX_BLOBS__KIND: 's3' } }));
  t.equal(s3.key, 'blobs.bucket');
});

t.test('several problems are reported together', async (t) => {
  const err = configError(t, () => loadConfig({ env: { OPENCX_NOPE: '1', OPENCX_SIP__UDP_PORT: 'x' } }));
  t.match(err.message, /2 configuration errors/);
  t.match(err.message, /OPENCX_NOPE/);
  t.match(err.message, /OPENCX_SIP__UDP_PORT/);
});

t.test('YAML and file errors are ConfigErrors', async (t) => {
  const broken = configError(t, () => loadConfig({ file: file('broken.yaml'), env: {} }));
  t.match(broken.message, /broken\.yaml is not valid YAML/);
  t.match(broken.message, /line \d+/);
  const missing = configError(t, () => loadConfig({ file: file('does-not-exist.yaml'), env: {} }));
  t.match(missing.message, /cannot read config file/);
  const scalar = configError(t, () => loadConfig({ file: file('scalar.yaml'), env: {} }));
  t.match(scalar.message, /mapping/);
});

t.test('env variable list and validateEnv', async (t) => {
  const names = envVarNames();
  for (const n of ['OPENCX_DATA_DIR', 'OPENCX_ROLES', 'OPENCX_LOG__LEVEL', 'OPENCX_SIP__UDP_PORT', 'OPENCX_SIP__TLS__KEY_FILE', 'OPENCX_SIP__TIMERS__T4', 'OPENCX_BUS__URL', 'OPENCX_DATABASE__URL', 'OPENCX_BLOBS__SECRET_ACCESS_KEY', 'OPENCX_METRICS__ENABLED', 'OPENCX_HTTP__PORT', 'OPENCX_SIP__MAX_CONNECTIONS_PER_SOURCE']) {
    t.ok(names.includes(n), n);
  }
  t.same([...names].sort(), names, 'sorted');
  t.equal(new Set(names).size, names.length, 'unique');
  for (const allowed of ENV_ALLOW_LIST) t.notOk(names.includes(allowed));
  t.same(envVariables().find((v) => v.name === 'OPENCX_SIP__IPV6'), { name: 'OPENCX_SIP__IPV6', path: 'sip.ipv6', kind: 'boolean' });
  t.same(envVariables().find((v) => v.name === 'OPENCX_ROLES')?.values, [...ROLES]);
  // every listed name is accepted and lands on its path
  for (const v of envVariables()) {
    const value = v.values?.[0] ?? (v.kind === 'number' ? '3000' : v.kind === 'boolean' ? 'true' : 'redis://opencx-test-host');
    // media.portMax must stay above media.portMin: give the pair a low minimum when the max is set
    const low = v.name === 'OPENCX_MEDIA__PORT_MAX' ? { OPENCX_MEDIA__PORT_MIN: '2000' } : {};
    const c = validateEnv({ OPENCX_BUS__URL: 'redis://h', OPENCX_BLOBS__BUCKET: 'b', ...low, [v.name]: value });
    let node: unknown = c;
    for (const part of v.path.split('.')) node = (node as Record<string, unknown>)[part];
    const expected = v.kind === 'number' ? 3000 : v.kind === 'boolean' ? true : v.kind === 'list' ? [value] : value;
    t.same(node, expected, v.name);
  }
  t.equal(validateEnv({ OPENCX_HTTP__PORT: '0' }).http.port, 0);
  t.throws(() => validateEnv({ OPENCX_HTTP_PORT: '0' }), ConfigError);
});

t.test('sip.udpReceiveBufferBytes: 16 MiB by default, at most 1 GiB (what the native engine accepts)', async (t) => {
  t.equal(loadConfig({ env: {} }).sip.udpReceiveBufferBytes, 16 * 1024 * 1024);
  t.equal(loadConfig({ env: { OPENCX_SIP__UDP_RECEIVE_BUFFER_BYTES: '33554432' } }).sip.udpReceiveBufferBytes, 33554432);
  const err = configError(t, () => loadConfig({ env: { OPENCX_SIP__UDP_RECEIVE_BUFFER_BYTES: String(2 * 1024 * 1024 * 1024) } }));
  t.match(err.message, /udpReceiveBufferBytes/);
});
