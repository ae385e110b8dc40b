import { testConfig } from '@ambient-ts/vitest-preset';

export default testConfig(import.meta.dirname);
