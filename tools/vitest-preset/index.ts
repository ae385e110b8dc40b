// The single test configuration for every project. Each run also writes vitest's JSON report to
// <repo>/.reports/vitest/<package name>.json, which .ci/run sums into "tests: N passed, M failed".
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Resolve @ambient-ts/* imports to their TypeScript sources, so tests never need a build. */
export const sourceConditions = ['ambient-ts-source', 'node', 'import', 'module', 'default'];

export interface TestPresetOptions {
  /** Per-test timeout; integration tests with real sockets get more than unit tests need. */
  testTimeout?: number;
}

export function testConfig(projectDir: string, options: TestPresetOptions = {}): ViteUserConfig {
  const pkg = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { name: string };
  return defineConfig({
    root: projectDir,
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ['ambient-ts-source'] } },
    test: {
      name: pkg.name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      pool: 'forks',
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 30_000,
      reporters: ['default', ['json', { outputFile: join(repoRoot, '.reports/vitest', `${pkg.name}.json`) }]],
    },
  });
}
