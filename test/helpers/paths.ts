import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from a compiled test file (dist/test/..., dist-xyz/test/...) or a source one. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'opencx') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('opencx repository root not found');
    dir = up;
  }
}

/**
 * A fixture that lives next to the test source: fixture(import.meta.url, 'x.sdp') called from
 * dist/test/unit/media/sdp.test.js resolves to test/unit/media/x.sdp.
 */
export function fixture(testFileUrl: string, name: string): string {
  const root = repoRoot();
  const compiled = path.dirname(fileURLToPath(testFileUrl));
  const rel = path.relative(root, compiled).split(path.sep);
  // drop the build folder (dist, dist-xyz) in front of test/
  const testIdx = rel.indexOf('test');
  const srcRel = testIdx >= 0 ? rel.slice(testIdx) : rel;
  return path.join(root, ...srcRel, name);
}

/** The conformance material: OPENCX_CONFORMANCE_DIR, else ../shared/conformance beside the repo. */
export function conformanceDir(): string | undefined {
  const fromEnv = process.env.OPENCX_CONFORMANCE_DIR;
  const candidate = fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(repoRoot(), '..', 'shared', 'conformance');
  return existsSync(candidate) ? candidate : undefined;
}
