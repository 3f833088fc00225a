/**
 * The output of a child process (a softphone) gathered as text, and waiting for a pattern in it:
 * resolves with the match, rejects with the output's tail when the process exits first or the
 * time runs out.
 */
import type { ChildProcess } from 'node:child_process';

export interface ProcessOutput {
  text(): string;
  exited(): boolean;
  /** note something in the output (a command the test typed) */
  append(line: string): void;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

export function watchOutput(name: string, child: ChildProcess, clean: (chunk: string) => string = (s) => s): ProcessOutput {
  let out = '';
  let exited = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.slice()) w();
  };
  const onData = (d: Buffer): void => {
    out += clean(d.toString());
    wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('exit', () => {
    exited = true;
    wake();
  });
  return {
    text: () => out,
    exited: () => exited,
    append(line: string) {
      out += line;
    },
    waitFor(re: RegExp, timeoutMs = 10000): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m !== null) {
            done();
            resolve(m[0]);
          } else if (exited) {
            done();
            reject(new Error(`${name} exited before ${String(re)}:\n${out.slice(-6000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${String(re)} within ${timeoutMs} ms:\n${out.slice(-6000)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
        };
        waiters.push(check);
        check();
      });
    },
  };
}
