/** Child processes read from /proc, for tests that check what a process started or left behind. */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * pids of the children of `parent`: those whose command name starts with `name` when given
 * (the kernel keeps 15 characters of it), and zombies (exited, not reaped yet) only when
 * `zombies` is true, so a test can check that a child was reaped and not only killed.
 */
export function childPids(parent: number, options: { name?: string; zombies?: boolean } = {}): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== parent) continue;
      if (fields[0] === 'Z' && options.zombies !== true) continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (options.name !== undefined && !comm.startsWith(options.name.slice(0, 15))) continue;
      pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}
