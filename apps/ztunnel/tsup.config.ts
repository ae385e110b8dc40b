import { buildConfig } from '@ambient-ts/tsup-preset';

export default buildConfig({ entry: ['src/main.ts'], dts: false });
