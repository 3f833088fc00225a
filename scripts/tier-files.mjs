// The compiled test files of a tier: dist/test/<tier>/**/*.test.js (helpers beside them are not tests).
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

export function tierFiles(root, tier) {
  const dir = path.join(root, 'dist', 'test', tier);
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.js')) out.push(path.relative(root, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
