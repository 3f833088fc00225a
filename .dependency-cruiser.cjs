/**
 * The layering of DESIGN.md as rules: an arrow there is an allowed import here, everything else
 * fails `npm run depcheck` (and so `npm test` and CI).
 */
const allowed = {
  lib: [],
  platform: ['lib'],
  sip: ['lib', 'platform'],
  media: ['lib', 'platform'],
  calls: ['sip', 'media', 'platform', 'lib'],
  mcp: ['sip', 'media', 'calls', 'platform', 'lib'],
  control: ['platform', 'lib'],
  voicemail: ['mcp', 'control', 'platform', 'lib'],
};
const layers = Object.keys(allowed);

const layerRules = layers.map((layer) => {
  const ok = [layer, ...allowed[layer]];
  const forbidden = layers.filter((l) => !ok.includes(l)).concat(['cli']);
  return {
    name: `layer-${layer}`,
    comment: `src/${layer} may import only ${ok.join(', ')} (DESIGN.md)`,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    to: { path: `^src/(${forbidden.join('|')})/` },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'index-only',
      comment: 'other folders import a layer through its index.ts only (DESIGN.md)',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles; a cycle closed only by `import type` (a helper typed by its host class) creates no load-order cycle and is allowed',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
