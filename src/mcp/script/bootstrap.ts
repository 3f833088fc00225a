/**
 * The JavaScript that runs first in every session's QuickJS context: the VoiceXML scope chain
 * (VoiceXML 2.0 §5.1) as plain objects, and the few entry points the host calls. Expressions
 * are compiled once per (chain depth, source) into functions that evaluate inside nested
 * `with` statements over the scope objects, innermost last.
 */
export const BOOTSTRAP_SOURCE = String.raw`
(function (g) {
  var S = { session: Object.create(null), application: Object.create(null), document: Object.create(null), dialog: null, anon: [] };
  var saved = [];
  var cache = Object.create(null);
  var cacheSize = 0;
  Object.defineProperty(g, 'session', { get: function () { return S.session; }, configurable: false });
  Object.defineProperty(g, 'application', { get: function () { return S.application; }, configurable: false });
  Object.defineProperty(g, 'document', { get: function () { return S.document; }, configurable: false });
  Object.defineProperty(g, 'dialog', { get: function () { return S.dialog === null ? undefined : S.dialog; }, configurable: false });
  function chain() {
    var c = [S.session, S.application, S.document];
    if (S.dialog !== null) c.push(S.dialog);
    for (var i = 0; i < S.anon.length; i++) c.push(S.anon[i]);
    return c;
  }
  function current() { var c = chain(); return c[c.length - 1]; }
  function compile(kind, src, depth) {
    var key = kind + depth + ':' + src;
    var f = cache[key];
    if (f) return f;
    var head = '';
    for (var i = 0; i < depth; i++) head += 'with(__c[' + i + '])';
    var body;
    if (kind === 'e') body = head + '{return (' + src + '\n);}';
    else if (kind === 'a') body = head + '{' + src + ' = __v;}';
    else body = head + '{' + src + '\n}';
    f = new Function('__c', '__v', '__cur', body);
    if (cacheSize > 5000) { cache = Object.create(null); cacheSize = 0; }
    cache[key] = f; cacheSize++;
    return f;
  }
  function evaluate(src) { var c = chain(); return compile('e', src, c.length)(c); }
  function findScope(name) {
    var c = chain();
    for (var i = c.length - 1; i >= 0; i--) if (name in c[i]) return c[i];
    return null;
  }
  var scopeNames = { session: 1, application: 1, document: 1, dialog: 1 };
  function checkDeclared(name) {
    var parts = name.split('.');
    if (parts.length === 1) {
      if (findScope(name) === null) throw new ReferenceError('assignment to undeclared variable ' + name);
      return;
    }
    if (parts.length === 2 && scopeNames[parts[0]] === 1 && findScope(parts[0]) === null) {
      var scope = g[parts[0]];
      if (scope === undefined || !(parts[1] in scope)) throw new ReferenceError('assignment to undeclared variable ' + name);
    }
  }
  function assignValue(name, value) {
    checkDeclared(name);
    var c = chain();
    compile('a', name, c.length)(c, value);
  }
  function toJson(v) {
    if (v === undefined) return '{}';
    return JSON.stringify({ v: v }, function (k, x) { return typeof x === 'function' ? undefined : x; });
  }
  function makeNode(spec, parent) {
    var node = { nodeType: spec.t, nodeName: spec.n, nodeValue: spec.v === undefined ? null : spec.v, parentNode: parent, childNodes: [], attributes: [] };
    node.tagName = spec.t === 1 ? spec.n : undefined;
    node.localName = spec.t === 1 ? spec.n : undefined;
    if (spec.t === 3) node.data = spec.v;
    var attrs = spec.a || {};
    for (var an in attrs) node.attributes.push({ name: an, nodeName: an, value: attrs[an], nodeValue: attrs[an], nodeType: 2 });
    node.getAttribute = function (n) { return Object.prototype.hasOwnProperty.call(attrs, n) ? attrs[n] : ''; };
    node.hasAttribute = function (n) { return Object.prototype.hasOwnProperty.call(attrs, n); };
    node.getElementsByTagName = function (n) {
      var out = [];
      (function walk(x) { for (var i = 0; i < x.childNodes.length; i++) { var ch = x.childNodes[i]; if (ch.nodeType === 1 && (n === '*' || ch.nodeName === n)) out.push(ch); walk(ch); } })(node);
      out.item = function (i) { return out[i] === undefined ? null : out[i]; };
      return out;
    };
    node.hasChildNodes = function () { return node.childNodes.length > 0; };
    var kids = spec.c || [];
    for (var i = 0; i < kids.length; i++) node.childNodes.push(makeNode(kids[i], node));
    for (var j = 0; j < node.childNodes.length; j++) {
      node.childNodes[j].previousSibling = j > 0 ? node.childNodes[j - 1] : null;
      node.childNodes[j].nextSibling = j + 1 < node.childNodes.length ? node.childNodes[j + 1] : null;
    }
    node.childNodes.item = function (i) { return node.childNodes[i] === undefined ? null : node.childNodes[i]; };
    node.firstChild = node.childNodes.length > 0 ? node.childNodes[0] : null;
    if (spec.t === 9) { node.documentElement = null; for (var d = 0; d < node.childNodes.length; d++) if (node.childNodes[d].nodeType === 1) { node.documentElement = node.childNodes[d]; break; } }
    node.lastChild = node.childNodes.length > 0 ? node.childNodes[node.childNodes.length - 1] : null;
    node.textContent = spec.t === 3 ? spec.v : '';
    if (spec.t !== 3) { var tc = ''; for (var k = 0; k < node.childNodes.length; k++) tc += node.childNodes[k].textContent || ''; node.textContent = tc; }
    return node;
  }
  var ops = {
    eval: function (src) { return toJson(evaluate(src)); },
    evalString: function (src) { return toJson(String(evaluate(src))); },
    evalBoolean: function (src) { return toJson(Boolean(evaluate(src))); },
    exec: function (src, names) {
      var cur = current();
      var decl = JSON.parse(names);
      for (var i = 0; i < decl.vars.length; i++) if (!(decl.vars[i] in cur)) cur[decl.vars[i]] = undefined;
      var pre = '';
      for (var j = 0; j < decl.functions.length; j++) pre += '__cur[' + JSON.stringify(decl.functions[j]) + '] = ' + decl.functions[j] + ';';
      var c = chain();
      compile('s', pre + src, c.length)(c, undefined, cur);
      return '{}';
    },
    declare: function (name, src) { var v = src === null ? undefined : evaluate(src); current()[name] = v; return '{}'; },
    declareJson: function (name, json, level) {
      var target = level === 'current' ? current() : S[level];
      var parsed = JSON.parse(json);
      target[name] = parsed.v;
      return '{}';
    },
    declareDom: function (name, json) { current()[name] = makeNode(JSON.parse(json), null); return '{}'; },
    assign: function (name, src) { assignValue(name, evaluate(src)); return '{}'; },
    assignJson: function (name, json) { assignValue(name, JSON.parse(json).v); return '{}'; },
    setJson: function (path, json) {
      var parts = path.split('.');
      var target = S[parts[0]];
      for (var i = 1; i < parts.length - 1; i++) { if (target[parts[i]] === undefined || target[parts[i]] === null) target[parts[i]] = {}; target = target[parts[i]]; }
      target[parts[parts.length - 1]] = JSON.parse(json).v;
      return '{}';
    },
    copyInto: function (level, src) { var v = evaluate(src); var t = level === 'current' ? current() : S[level]; for (var k in v) t[k] = v[k]; return '{}'; },
    declared: function (name) { return toJson(findScope(name) !== null); },
    reset: function (level) {
      if (level === 'dialog') S.dialog = Object.create(null);
      else if (level === 'nodialog') S.dialog = null;
      else S[level] = Object.create(null);
      if (level !== 'session') S.anon = [];
      return '{}';
    },
    docIsApp: function () { S.document = S.application; S.dialog = null; S.anon = []; return '{}'; },
    pushAnon: function () { S.anon.push(Object.create(null)); return '{}'; },
    popAnon: function () { S.anon.pop(); return '{}'; },
    anonDepth: function () { return toJson(S.anon.length); },
    truncateAnon: function (n) { S.anon.length = Number(n); return '{}'; },
    save: function () { saved.push({ application: S.application, document: S.document, dialog: S.dialog, anon: S.anon }); S.anon = []; return '{}'; },
    restore: function () { var s = saved.pop(); if (s) { S.application = s.application; S.document = s.document; S.dialog = s.dialog; S.anon = s.anon; } return '{}'; },
  };
  g.__vxmlCall = function (op, a, b, c) {
    try {
      return ops[op](a, b, c);
    } catch (e) {
      if (e && e.name === 'InternalError' && /interrupted|out of memory|stack overflow/.test(String(e.message))) throw e;
      return JSON.stringify({ err: String(e && e.name ? e.name : 'Error'), msg: String(e && e.message !== undefined ? e.message : e) });
    }
  };
})(globalThis);
`;
