import { buildConfig } from '@ambient-ts/tsup-preset';

export default buildConfig();
