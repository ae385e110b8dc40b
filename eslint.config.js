// One lint configuration for the whole repo. Layering is enforced by nx's module-boundary rule:
// each package may import only the packages the layer table in docs/decisions/0003-package-split.md
// allows (ARCHITECTURE.md draws it), apps import packages only, nothing imports an app, and no
// dependency cycle can form — between projects (nx here) or between files (madge, in `npm run lint`). Every
// package.json lists exactly the packages its source imports (@nx/dependency-checks).
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import * as jsonc from 'jsonc-eslint-parser';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Which packages each layer may import (tags are set in each package.json "nx" block). */
const depConstraints = [
  { sourceTag: 'pkg:spiffe', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:telemetry', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:netns', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:netns-topology', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:runtime', onlyDependOnLibsWithTags: ['pkg:addresses'] },
  { sourceTag: 'pkg:socks5', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:addresses', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:routes', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:pki', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:istio-api', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'pkg:xds', onlyDependOnLibsWithTags: ['pkg:istio-api'] },
  { sourceTag: 'pkg:ca', onlyDependOnLibsWithTags: ['pkg:spiffe', 'pkg:pki', 'pkg:istio-api'] },
  // LocalCa (FAKE_CA) signs in process with @ambient-ts/ca's CertificateAuthority.
  { sourceTag: 'pkg:certs', onlyDependOnLibsWithTags: ['pkg:spiffe', 'pkg:pki', 'pkg:ca', 'pkg:istio-api'] },
  { sourceTag: 'pkg:hbone', onlyDependOnLibsWithTags: ['pkg:spiffe', 'pkg:addresses'] },
  { sourceTag: 'pkg:policy', onlyDependOnLibsWithTags: ['pkg:spiffe', 'pkg:addresses', 'pkg:istio-api'] },
  {
    sourceTag: 'pkg:discovery',
    onlyDependOnLibsWithTags: ['pkg:istio-api', 'pkg:xds', 'pkg:policy', 'pkg:spiffe', 'pkg:addresses'],
  },
  // The DNS proxy answers from discovery's store (its model and the store view); nothing else.
  { sourceTag: 'pkg:dns', onlyDependOnLibsWithTags: ['pkg:discovery'] },
  {
    sourceTag: 'pkg:proxy-core',
    onlyDependOnLibsWithTags: ['pkg:addresses', 'pkg:telemetry', 'pkg:runtime', 'pkg:discovery', 'pkg:hbone'],
  },
  { sourceTag: 'type:package', onlyDependOnLibsWithTags: ['type:package'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:package'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:package', 'type:testing'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:package', 'type:testing', 'type:tool'] },
];

/** Tests may also use the fixture tools (tagged type:testing) and the X.509 fixtures of @ambient-ts/pki/testing. */
const testConstraints = depConstraints.map((constraint) => ({
  ...constraint,
  onlyDependOnLibsWithTags: [...constraint.onlyDependOnLibsWithTags, 'type:testing', 'type:tool', 'pkg:pki'],
}));

const testFiles = ['**/*.test.ts', '**/test/**/*.ts', '**/vitest.config.ts', '**/tsup.config.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', '.reports/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { plugins: { '@nx': nx } },
  {
    files: ['**/*.ts', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints, banTransitiveDependencies: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'ImportDeclaration[source.value=/^(fs|net|tls|http|http2|crypto|os|path|url|util|events|stream|child_process|dgram|dns|zlib|assert|buffer|timers|worker_threads|readline)(\\/.*)?$/]',
          message: 'Use the node: prefix for Node built-ins.',
        },
      ],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: testConstraints,
          banTransitiveDependencies: true,
        },
      ],
    },
  },
  {
    // Configuration is data: only apps/*/src/config.ts reads the environment.
    files: ['packages/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Packages take options objects; only apps/*/src/config.ts reads process.env.',
        },
      ],
    },
  },
  {
    // package.json dependencies equal what the published (non-test) source imports.
    files: ['packages/*/package.json', 'apps/*/package.json', 'tools/*/package.json'],
    languageOptions: { parser: jsonc },
    rules: {
      '@nx/dependency-checks': [
        'error',
        { buildTargets: ['build'], checkVersionMismatches: false, ignoredFiles: testFiles },
      ],
    },
  },
  prettier,
);
