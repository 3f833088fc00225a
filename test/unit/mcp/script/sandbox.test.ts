import t from 'tap';
import { ScriptSandbox, ScriptError, topLevelDeclarations } from '../../../../src/mcp/script/index.js';

t.test('scope chain: lookup, declare in the innermost scope, scope names', async (t) => {
  const s = await ScriptSandbox.create();
  t.teardown(() => s.close());
  s.declareValue('app', 1, 'application');
  s.declare('d', '2');
  s.resetScope('dialog');
  s.declare('x', 'app + d');
  t.equal(s.evaluate('x'), 3);
  t.equal(s.evaluate('dialog.x'), 3);
  t.equal(s.evaluate('document.d + application.app'), 3);
  s.pushAnonymous();
  s.declare('x', '"inner"');
  t.equal(s.evaluate('x'), 'inner', 'the anonymous scope shadows the dialog');
  t.equal(s.evaluate('dialog.x'), 3);
  s.popAnonymous();
  t.equal(s.evaluate('x'), 3);
});

t.test('assign to an undeclared variable is an error; declared ones are found through the chain', async (t) => {
  const s = await ScriptSandbox.create();
  t.teardown(() => s.close());
  s.declare('a', '1');
  s.resetScope('dialog');
  s.assign('a', 'a + 1');
  t.equal(s.evaluate('document.a'), 2);
  t.throws(() => s.assign('nope', '1'), ScriptError);
  t.throws(() => s.assign('document.nope', '1'), ScriptError);
  s.assign('document.a', '10');
  t.equal(s.evaluate('a'), 10);
});

t.test('<script> declarations land in the current scope; functions see later assignments', async (t) => {
  const s = await ScriptSandbox.create();
  t.teardown(() => s.close());
  s.resetScope('dialog');
  s.execute('var n = 2, m = (1, 2); function twice(x) { return x * n; }');
  t.equal(s.evaluate('dialog.n'), 2);
  t.equal(s.evaluate('typeof dialog.twice'), 'function');
  s.assign('n', '5');
  t.equal(s.evaluate('twice(3)'), 15);
  t.same(topLevelDeclarations('var a = {b: 1, c: 2}, d; function f() { var inner; } "var s";'), { vars: ['a', 'd'], functions: ['f'] });
});

t.test('values cross as JSON; undefined is kept at the top', async (t) => {
  const s = await ScriptSandbox.create();
  t.teardown(() => s.close());
  t.same(s.evaluate('({ a: [1, 2], b: "x" })'), { a: [1, 2], b: 'x' });
  t.equal(s.evaluate('undefined'), undefined);
  s.declareValue('o', { k: [true, null] });
  t.equal(s.evaluate('o.k[0] === true && o.k[1] === null'), true);
  t.throws(() => s.evaluate('1 +'), /SyntaxError/);
});

t.test('an infinite loop hits the time limit; the sandbox stays usable', async (t) => {
  const s = await ScriptSandbox.create({ timeMs: 100 });
  t.teardown(() => s.close());
  const err = t.throws(() => s.execute('while (true) {}')) as ScriptError;
  t.equal(err.kind, 'time-limit');
  t.match(err.message, /script time limit exceeded/);
  t.equal(s.evaluate('1 + 1'), 2);
});

t.test('unbounded allocation hits a limit (memory or time)', async (t) => {
  const s = await ScriptSandbox.create({ timeMs: 2000, memoryBytes: 8 * 1024 * 1024 });
  t.teardown(() => s.close());
  const err = t.throws(() => s.execute('var a = []; while (true) a.push(new Array(1e6).fill(1))')) as ScriptError;
  t.ok(err.kind === 'memory-limit' || err.kind === 'time-limit', err.message);
  t.match(err.message, /limit exceeded/);
});

t.test('a read-only DOM for <data>', async (t) => {
  const s = await ScriptSandbox.create();
  t.teardown(() => s.close());
  s.declareDom('d', { t: 9, n: '#document', c: [{ t: 1, n: 'quote', a: { sym: 'ABC' }, c: [{ t: 1, n: 'price', c: [{ t: 3, n: '#text', v: '42' }] }] }] });
  t.equal(s.evaluate('d.documentElement.nodeName'), 'quote');
  t.equal(s.evaluate("d.documentElement.getAttribute('sym')"), 'ABC');
  t.equal(s.evaluate("d.getElementsByTagName('price').item(0).firstChild.nodeValue"), '42');
  t.equal(s.evaluate('d.documentElement.firstChild.nextSibling'), null);
});

t.test('close is idempotent and later calls fail with a named error', async (t) => {
  const s = await ScriptSandbox.create();
  s.close();
  s.close();
  t.throws(() => s.evaluate('1'), ScriptError);
});
