/**
 * One ECMAScript context per VoiceXML session (VoiceXML 2.0 §5.1), in QuickJS: a memory limit
 * for the whole runtime and a time limit for every evaluation, so a runaway script ends with a
 * ScriptError instead of taking the process down. Values cross the boundary as JSON.
 */

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten';
import { OpencxError } from '../../lib/index.js';
import { BOOTSTRAP_SOURCE } from './bootstrap.js';
import { topLevelDeclarations } from './declarations.js';

export type ScopeLevel = 'session' | 'application' | 'document' | 'dialog';

/** Why a script failed: a script error (error.semantic), or a limit of the sandbox. */
export class ScriptError extends OpencxError {
  constructor(
    message: string,
    readonly kind: 'error' | 'time-limit' | 'memory-limit' | 'closed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SandboxLimits {
  /** bytes for the whole QuickJS runtime (default 32 MiB) */
  memoryBytes?: number;
  /** ms per evaluation (default 1000) */
  timeMs?: number;
}

/** A DOM node as JSON, for <data> (VoiceXML 2.1 §5): t nodeType, n nodeName, v nodeValue, a attributes, c children. */
export interface DomSpec {
  t: number;
  n: string;
  v?: string;
  a?: Record<string, string>;
  c?: DomSpec[];
}

export class ScriptSandbox {
  private closed = false;
  private readonly timeMs: number;

  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly context: QuickJSContext,
    private readonly entry: QuickJSHandle,
    timeMs: number,
  ) {
    this.timeMs = timeMs;
  }

  static async create(limits: SandboxLimits = {}): Promise<ScriptSandbox> {
    // loaded on the first session, not when the server starts
    const { getQuickJS } = await import('quickjs-emscripten');
    const quickjs = await getQuickJS();
    const runtime = quickjs.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes ?? 32 * 1024 * 1024);
    runtime.setMaxStackSize(512 * 1024);
    const context = runtime.newContext();
    const boot = context.evalCode(BOOTSTRAP_SOURCE);
    if (boot.error !== undefined) {
      const detail: unknown = context.dump(boot.error);
      boot.error.dispose();
      context.dispose();
      runtime.dispose();
      throw new ScriptError(`sandbox bootstrap failed: ${JSON.stringify(detail)}`, 'error');
    }
    boot.value.dispose();
    const entry = context.getProp(context.global, '__vxmlCall');
    return new ScriptSandbox(runtime, context, entry, limits.timeMs ?? 1000);
  }

  /** evaluates an ECMAScript expression in the current scope chain; the result as JSON (undefined kept) */
  evaluate(expr: string): unknown {
    return this.call('eval', expr);
  }

  /** ECMAScript ToBoolean of the value, computed in the sandbox (a function is true, NaN false) */
  evaluateBoolean(expr: string): boolean {
    return this.call('evalBoolean', expr) === true;
  }

  /** ECMAScript ToString of the value, computed in the sandbox ("NaN", "1,2", "[object Object]") */
  evaluateString(expr: string): string {
    const v = this.call('evalString', expr);
    return typeof v === 'string' ? v : String(v);
  }

  /** a <script> body: its top-level var and function declarations land in the innermost scope */
  execute(source: string): void {
    this.call('exec', source, JSON.stringify(topLevelDeclarations(source)));
  }

  /** <var name expr>: declares in the innermost scope */
  declare(name: string, expr: string | undefined): void {
    this.call('declare', name, expr ?? null);
  }

  declareValue(name: string, value: unknown, level: ScopeLevel | 'current' = 'current'): void {
    this.call('declareJson', name, jsonOf(value), level);
  }

  declareDom(name: string, dom: DomSpec): void {
    this.call('declareDom', name, JSON.stringify(dom));
  }

  /** <assign>: throws ScriptError when the variable is not declared */
  assign(name: string, expr: string): void {
    this.call('assign', name, expr);
  }

  assignValue(name: string, value: unknown): void {
    this.call('assignJson', name, jsonOf(value));
  }

  /** sets a value by path from a scope, creating intermediate objects: `application.lastresult$` */
  setPath(path: string, value: unknown): void {
    this.call('setJson', path, jsonOf(value));
  }

  /** copies the properties of an expression's object value into a scope (subdialog params) */
  copyInto(level: ScopeLevel | 'current', expr: string): void {
    this.call('copyInto', level, expr);
  }

  isDeclared(name: string): boolean {
    return this.call('declared', name) === true;
  }

  /** a fresh object for a scope; resets anonymous scopes (a new dialog or document) */
  resetScope(level: ScopeLevel | 'nodialog'): void {
    this.call('reset', level);
  }

  /** the document scope is the application scope (the root document itself, VoiceXML 2.0 §5.1.2) */
  useApplicationAsDocument(): void {
    this.call('docIsApp');
  }

  pushAnonymous(): void {
    this.call('pushAnon');
  }

  popAnonymous(): void {
    this.call('popAnon');
  }

  /** saves the application/document/dialog scopes (entering a subdialog) */
  saveContext(): void {
    this.call('save');
  }

  restoreContext(): void {
    this.call('restore');
  }

  get anonymousDepth(): number {
    const n = this.call('anonDepth');
    return typeof n === 'number' ? n : 0;
  }

  truncateAnonymous(depth: number): void {
    this.call('truncateAnon', String(depth));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.entry.dispose();
    try {
      this.context.dispose();
      this.runtime.dispose();
    } catch {
      // a runtime that hit its memory limit may refuse to free cleanly; the WASM heap goes with it
    }
  }

  private call(op: string, ...args: Array<string | null>): unknown {
    if (this.closed) throw new ScriptError('the script sandbox is closed', 'closed');
    const vm = this.context;
    const handles = [vm.newString(op), ...args.map((a) => (a === null ? vm.null : vm.newString(a)))];
    const start = Date.now();
    const deadline = start + this.timeMs;
    this.runtime.setInterruptHandler(() => Date.now() > deadline);
    const result = vm.callFunction(this.entry, vm.undefined, ...handles);
    this.runtime.removeInterruptHandler();
    for (const h of handles) if (h.alive && h !== vm.null) h.dispose();
    if (result.error !== undefined) {
      const detail = safeDump(vm, result.error);
      result.error.dispose();
      const text = detail.toLowerCase();
      if (text.includes('interrupted')) throw new ScriptError('script time limit exceeded', 'time-limit');
      if (text.includes('out of memory') || text.includes('memory')) throw new ScriptError('script memory limit exceeded', 'memory-limit');
      if (text.includes('stack overflow')) throw new ScriptError('script stack overflow', 'error');
      throw new ScriptError(`script error: ${detail}`, 'error');
    }
    const raw = safeDump(vm, result.value);
    result.value.dispose();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ScriptError(`script result is not JSON: ${raw.slice(0, 80)}`, 'error');
    }
    if (parsed !== null && typeof parsed === 'object') {
      const rec = parsed as { v?: unknown; err?: string; msg?: string };
      if (rec.err !== undefined) throw new ScriptError(`${rec.err}: ${rec.msg ?? ''}`, 'error');
      return rec.v;
    }
    return undefined;
  }
}

function safeDump(vm: QuickJSContext, handle: QuickJSHandle): string {
  try {
    const v: unknown = vm.dump(handle);
    if (typeof v === 'string') return v;
    if (v !== null && typeof v === 'object') {
      const e = v as { name?: unknown; message?: unknown };
      if (e.message !== undefined) return `${String(e.name ?? 'Error')}: ${String(e.message)}`;
    }
    return JSON.stringify(v) ?? String(v);
  } catch {
    return 'out of memory';
  }
}

function jsonOf(value: unknown): string {
  return value === undefined ? '{}' : JSON.stringify({ v: value });
}
