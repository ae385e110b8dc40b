// The single build configuration for every package and app: ESM, .d.ts, sourcemaps, Node 24.
// Swapping the bundler (tsup → tsdown, say) is a change to this file only.
import { defineConfig, type Options } from 'tsup';

export interface BuildPresetOptions {
  /** Entry points relative to the package root; defaults to the package's public door. */
  entry?: string[];
  /** Emit declarations (packages do; apps need not). */
  dts?: boolean;
  /** Extra tsup options for the rare package that needs them. */
  overrides?: Options;
}

export function buildConfig(options: BuildPresetOptions = {}): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry: options.entry ?? ['src/index.ts'],
    format: ['esm'],
    platform: 'node',
    target: 'node24',
    dts: options.dts ?? true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    // Sibling @ambient-ts packages and npm dependencies stay imports; tsup externalises everything
    // listed in package.json dependencies, which is what a published package must do.
    ...options.overrides,
  });
}
