import type { Test } from 'tap';
import { conformanceDir } from './paths.js';

/**
 * The conformance material (RFC 4475 messages, W3C VoiceXML documents) lives outside the repo.
 * When it is missing the tier says so loudly: in CI that is a failure, on a user's clone each
 * test that needs it is reported as NOT RUN with the reason (never a silent pass).
 */
export function requireConformance(t: Test, what: string): string | undefined {
  const dir = conformanceDir();
  if (dir !== undefined) return dir;
  const msg = `NOT RUN: ${what}: conformance material not found (set OPENCX_CONFORMANCE_DIR or place it at ../shared/conformance)`;
  process.stderr.write(`\n!!! ${msg}\n\n`);
  if (process.env.CI === 'true' || process.env.CI === '1') {
    t.fail(msg);
  } else {
    t.pass(msg, { skip: msg });
  }
  return undefined;
}
