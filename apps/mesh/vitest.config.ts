import { defineConfig, mergeConfig } from 'vitest/config';
import { testConfig } from '@ambient-ts/vitest-preset';

// Every test here runs the whole local mesh on its fixed addresses and ports: one file at a time.
export default mergeConfig(
  testConfig(import.meta.dirname, { testTimeout: 180_000 }),
  defineConfig({ test: { fileParallelism: false } }),
);
