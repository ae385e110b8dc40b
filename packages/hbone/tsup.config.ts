import { buildConfig } from '@ambient-ts/tsup-preset';

// The library door and the `hbone` command (package.json "bin").
export default buildConfig({ entry: ['src/index.ts', 'src/cli.ts'] });
