export { ScriptSandbox, ScriptError } from './sandbox.js';
export type { SandboxLimits, ScopeLevel, DomSpec } from './sandbox.js';
export { topLevelDeclarations } from './declarations.js';
export { SpareSandbox } from './spare-sandbox.js';
