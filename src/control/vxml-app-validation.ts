import { InvalidFieldError } from './errors.js';
import { VXML_APP_DESCRIPTION_MAX, VXML_APP_NAME_PATTERN, VXML_CONTENT_TYPES, VXML_FILE_PATH_MAX } from './vxml-app-types.js';

export function checkAppName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !VXML_APP_NAME_PATTERN.test(value)) throw new InvalidFieldError(field, 'must be 1 to 64 characters of a-z, 0-9 and "-"');
  return value;
}

export function checkDescription(value: unknown, field = 'description'): string {
  if (typeof value !== 'string') throw new InvalidFieldError(field, 'must be a string');
  if (value.length > VXML_APP_DESCRIPTION_MAX) throw new InvalidFieldError(field, `must be at most ${VXML_APP_DESCRIPTION_MAX} characters`);
  return value;
}

/**
 * A segment may hold letters, digits, space and . _ - ~ @ +: enough for real file names, and
 * nothing that means something else in a URL (% ? # \) or to a shell.
 */
const SEGMENT = /^[A-Za-z0-9._~@+ -]+$/;

/**
 * A file path inside an application: relative POSIX, no empty, "." or ".." segment (so it can
 * never name anything outside the application, whatever joins it later), at most 256 characters,
 * and an extension from VXML_CONTENT_TYPES.
 */
export function checkFilePath(value: unknown, field = 'path'): string {
  if (typeof value !== 'string' || value === '') throw new InvalidFieldError(field, 'is required');
  if (value.length > VXML_FILE_PATH_MAX) throw new InvalidFieldError(field, `must be at most ${VXML_FILE_PATH_MAX} characters`);
  if (value.startsWith('/')) throw new InvalidFieldError(field, 'must be relative (no leading "/")');
  for (const segment of value.split('/')) {
    if (segment === '') throw new InvalidFieldError(field, 'must not have empty segments ("a//b" or a trailing "/")');
    if (segment === '.' || segment === '..') throw new InvalidFieldError(field, `must not contain a "${segment}" segment`);
    if (!SEGMENT.test(segment)) throw new InvalidFieldError(field, 'may only contain letters, digits, space, ".", "_", "-", "~", "@", "+" and "/"');
  }
  contentTypeFor(value, field);
  return value;
}

/** the content type of a path, from its extension; refuses an extension not in VXML_CONTENT_TYPES */
export function contentTypeFor(path: string, field = 'path'): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  const type = dot <= 0 ? undefined : VXML_CONTENT_TYPES[name.slice(dot).toLowerCase()];
  if (type === undefined) throw new InvalidFieldError(field, `must end in one of ${Object.keys(VXML_CONTENT_TYPES).join(' ')}`);
  return type;
}

/**
 * The URL opencx serves a hosted application's file at (GET /vxml/{tenant}/{app}/{path}), for
 * a dial-plan target or a platform that fetches it. `tenant` is the tenant's name; every part
 * is percent-encoded, the path segment by segment. Without a path: the application's folder.
 */
export function hostedAppUrl(baseUrl: string, tenant: string, app: string, path?: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const file = path === undefined ? '' : path.split('/').map(encodeURIComponent).join('/');
  return `${base}/vxml/${encodeURIComponent(tenant)}/${encodeURIComponent(app)}/${file}`;
}
