import { buildConfig } from '@ambient-ts/tsup-preset';

export default buildConfig({ entry: ['src/main.ts', 'src/index.ts'], dts: false });
