/**
 * Finds the top-level `var` and `function` declarations of a script, so a VoiceXML <script>
 * can declare them in the scope object of its element (VoiceXML 2.0 §5.3.12): a small scanner
 * that skips strings, comments, template literals and nested brackets. It never throws.
 */
export interface TopLevelDeclarations {
  vars: string[];
  functions: string[];
}

const IDENT = /[A-Za-z_$][\w$]*/y;

export function topLevelDeclarations(source: string): TopLevelDeclarations {
  const vars = new Set<string>();
  const functions = new Set<string>();
  let depth = 0;
  let inVar = false;
  let expectName = false;
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i] ?? '';
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(source, i, c);
      expectName = false;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      i++;
      expectName = false;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (depth === 0 && c === ';') {
      inVar = false;
      expectName = false;
      i++;
      continue;
    }
    if (depth === 0 && c === ',' && inVar) {
      expectName = true;
      i++;
      continue;
    }
    IDENT.lastIndex = i;
    const m = IDENT.exec(source);
    if (m !== null) {
      const word = m[0];
      const prev = i > 0 ? source[i - 1] : '';
      const afterDot = prev === '.';
      i += word.length;
      if (afterDot) continue;
      if (expectName && depth === 0) {
        vars.add(word);
        expectName = false;
        continue;
      }
      if (depth !== 0) continue;
      if (word === 'var') {
        inVar = true;
        expectName = true;
      } else if (word === 'function') {
        const rest = /\s*([A-Za-z_$][\w$]*)/y;
        rest.lastIndex = i;
        const fm = rest.exec(source);
        if (fm?.[1] !== undefined) {
          functions.add(fm[1]);
          i = rest.lastIndex;
        }
      }
      continue;
    }
    i++;
  }
  return { vars: [...vars], functions: [...functions] };
}

function skipString(source: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) return i + 1;
    if (quote !== '`' && c === '\n') return i + 1;
    i++;
  }
  return i;
}
