import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, describeError } from '../lib/index.js';
import { configSchema, type Config, type ConfigInput, type DeepPartial } from './config-schema.js';

/**
 * Configuration comes from three layers, later ones winning key by key:
 *   YAML file  <  OPENCX_* environment  <  command-line flags.
 * Every error is a ConfigError whose `key` is the config path ("sip.udpPort") and whose message
 * says where the bad value came from, so an operator can find it without reading code.
 *
 * Environment naming: OPENCX_ + the path in SCREAMING_SNAKE, "__" between levels
 * (sip.udpPort -> OPENCX_SIP__UDP_PORT, dataDir -> OPENCX_DATA_DIR). Lists are comma separated
 * (OPENCX_ROLES=sip,media). Numbers and booleans (true/false/1/0/yes/no/on/off) are coerced per
 * the schema. An empty value counts as unset, because docker-compose passes `VAR=` for blanks.
 */

/** OPENCX_* variables that are not config keys but are read elsewhere; never reported as unknown. */
export const ENV_ALLOW_LIST: readonly string[] = [
  /** path of the YAML config file, read by the CLI */
  'OPENCX_CONFIG',
  /** where the conformance material lives, read by the test helpers */
  'OPENCX_CONFORMANCE_DIR',
];

const ENV_PREFIX = 'OPENCX_';

export type EnvMap = Readonly<Record<string, string | undefined>>;

export type EnvVarKind = 'string' | 'number' | 'boolean' | 'list';

export interface EnvVarInfo {
  name: string;
  /** dotted config path, e.g. "sip.udpPort" */
  path: string;
  kind: EnvVarKind;
  /** the allowed values of an enum (or of a list's items) */
  values?: string[];
}

export interface LoadConfigOptions {
  /** YAML file; absent means no file layer */
  file?: string;
  env: EnvMap;
  flags?: DeepPartial<ConfigInput>;
}

type Tree = Record<string, unknown>;

function isPlainObject(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function screamingSnake(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Walk the schema down to its leaves; wrappers (default/optional/refinements) are transparent. */
function unwrap(schema: z.ZodTypeAny): z.ZodTypeAny {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault) s = s._def.innerType as z.ZodTypeAny;
    else if (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodTypeAny;
    else if (s instanceof z.ZodEffects) s = s.innerType() as z.ZodTypeAny;
    else return s;
  }
}

function collectLeaves(schema: z.ZodTypeAny, path: string[], out: EnvVarInfo[]): void {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(s.shape as Record<string, z.ZodTypeAny>)) {
      collectLeaves(child, [...path, key], out);
    }
    return;
  }
  let kind: EnvVarKind = 'string';
  let item = s;
  if (s instanceof z.ZodNumber) kind = 'number';
  else if (s instanceof z.ZodBoolean) kind = 'boolean';
  else if (s instanceof z.ZodArray) {
    kind = 'list';
    item = unwrap(s.element as z.ZodTypeAny);
  }
  const info: EnvVarInfo = { name: ENV_PREFIX + path.map(screamingSnake).join('__'), path: path.join('.'), kind };
  if (item instanceof z.ZodEnum) info.values = [...(item.options as string[])];
  out.push(info);
}

const ENV_TABLE: readonly EnvVarInfo[] = (() => {
  const out: EnvVarInfo[] = [];
  collectLeaves(configSchema, [], out);
  return out;
})();
const ENV_BY_NAME = new Map(ENV_TABLE.map((v) => [v.name, v]));

/** Every OPENCX_* variable that sets a config key, with its path and type (for docs). */
export function envVariables(): EnvVarInfo[] {
  return ENV_TABLE.map((v) => (v.values === undefined ? { ...v } : { ...v, values: [...v.values] }));
}

/** The names alone, sorted, plus nothing from the allow-list. */
export function envVarNames(): string[] {
  return ENV_TABLE.map((v) => v.name).sort();
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function suggestEnv(name: string): string {
  let best: string | undefined;
  let bestDist = 4;
  for (const v of ENV_TABLE) {
    const d = editDistance(name, v.name);
    if (d < bestDist) {
      best = v.name;
      bestDist = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function coerce(info: EnvVarInfo, raw: string): unknown {
  const value = raw.trim();
  switch (info.kind) {
    case 'number':
      if (!/^[+-]?\d+(\.\d+)?$/.test(value)) {
        throw new ConfigError(`${info.path}: expected a number, got "${raw}" (from env ${info.name})`, info.path);
      }
      return Number(value);
    case 'boolean': {
      const lower = value.toLowerCase();
      if (TRUE_WORDS.has(lower)) return true;
      if (FALSE_WORDS.has(lower)) return false;
      throw new ConfigError(`${info.path}: expected a boolean (true/false), got "${raw}" (from env ${info.name})`, info.path);
    }
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'string':
      return value;
  }
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = node[key];
    if (isPlainObject(next)) node = next;
    else {
      const created: Tree = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1] as string] = value;
}

/** Source of each leaf value, for error messages: path -> "env OPENCX_X" / "file a.yaml" / "flag x". */
type Sources = Map<string, string>;

function recordLeaves(value: unknown, path: string[], source: string, sources: Sources): void {
  if (isPlainObject(value) && path.length > 0 && Object.keys(value).length === 0) {
    sources.set(path.join('.'), source);
    return;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) recordLeaves(v, [...path, k], source, sources);
    return;
  }
  sources.set(path.join('.'), source);
}

/** Drop null/undefined (an empty YAML section or an unset flag means "not given here"). */
function stripEmpty(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Tree = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[k] = stripEmpty(v);
  }
  return out;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function readFileLayer(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${describeError(err)}`, undefined, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${describeError(err)}`, undefined, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc)) {
    throw new ConfigError(`config file ${file} must hold a mapping of settings at the top level`, undefined);
  }
  return stripEmpty(doc) as Tree;
}

function envLayer(env: EnvMap, sources: Sources): Tree {
  const tree: Tree = {};
  const problems: ConfigError[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_ALLOW_LIST.includes(name)) continue;
    if (raw === undefined || raw.trim() === '') continue;
    const info = ENV_BY_NAME.get(name);
    if (info === undefined) {
      problems.push(new ConfigError(`unknown environment variable ${name}${suggestEnv(name)}`, name));
      continue;
    }
    try {
      setPath(tree, info.path.split('.'), coerce(info, raw));
      sources.set(info.path, `env ${name}`);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(err);
      else throw err;
    }
  }
  if (problems.length > 0) throw combine(problems);
  return tree;
}

function combine(problems: ConfigError[]): ConfigError {
  const first = problems[0] as ConfigError;
  if (problems.length === 1) return first;
  return new ConfigError(`${problems.length} configuration errors:\n  ${problems.map((p) => p.message).join('\n  ')}`, first.key);
}

function sourceOf(path: string, sources: Sources): string {
  const exact = sources.get(path);
  if (exact !== undefined) return exact;
  for (const [p, s] of sources) if (p.startsWith(path + '.')) return s;
  const parts = path.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const s = sources.get(parts.slice(0, i).join('.'));
    if (s !== undefined) return s;
  }
  return 'defaults';
}

function issueErrors(error: z.ZodError, sources: Sources): ConfigError[] {
  const out: ConfigError[] = [];
  for (const issue of error.issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) {
        const path = [...issue.path, key].join('.');
        out.push(new ConfigError(`unknown key "${path}" (from ${sourceOf(path, sources)})`, path));
      }
      continue;
    }
    const path = issue.path.join('.');
    const where = path === '' ? '(top level)' : path;
    out.push(new ConfigError(`${where}: ${issue.message} (from ${sourceOf(path, sources)})`, path === '' ? undefined : path));
  }
  return out;
}

/**
 * Load and validate the configuration. Throws ConfigError (and nothing else) on any problem:
 * unreadable file, bad YAML, unknown key or env variable, wrong type, missing dependent key.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const sources: Sources = new Map();
  let merged: Tree = {};
  if (options.file !== undefined) {
    const fileTree = readFileLayer(options.file);
    recordLeaves(fileTree, [], `file ${options.file}`, sources);
    merged = fileTree;
  }
  const envTree = envLayer(options.env, sources);
  merged = deepMerge(merged, envTree);
  if (options.flags !== undefined) {
    const flagTree = stripEmpty(options.flags);
    if (isPlainObject(flagTree)) {
      const flagSources: Sources = new Map();
      recordLeaves(flagTree, [], 'flag', flagSources);
      for (const p of flagSources.keys()) sources.set(p, `flag --${p}`);
      merged = deepMerge(merged, flagTree);
    }
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) throw combine(issueErrors(result.error, sources));
  return result.data;
}

/** Validate an environment map on its own (over the defaults); returns the config it yields. */
export function validateEnv(env: EnvMap): Config {
  return loadConfig({ env });
}
