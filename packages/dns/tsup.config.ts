import { buildConfig } from '@ambient-ts/tsup-preset';

export default buildConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
