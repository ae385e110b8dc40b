// Runs a README's example exactly as written, the way a user would after installing the package: the code
// block after `<!-- <marker> -->` is saved inside the project (so the package resolves by its own name) in
// a temporary folder, optionally prepared with files, and run with Node; its stdout is returned.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ReadmeExampleOptions {
  /** The HTML comment before the ```ts block. Default `example`. */
  marker?: string;
  /** Write what the example reads (certificates, YAML) into its folder before it runs. */
  prepare?: (dir: string) => void;
  timeoutMs?: number;
}

export async function runReadmeExample(projectDir: string, options: ReadmeExampleOptions = {}): Promise<string> {
  const readme = readFileSync(join(projectDir, 'README.md'), 'utf8');
  const marker = options.marker ?? 'example';
  const code = new RegExp(`<!-- ${marker} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  if (code === undefined)
    throw new Error(`${projectDir}/README.md has no "<!-- ${marker} -->" block followed by a \`\`\`ts example`);
  const dir = mkdtempSync(join(projectDir, '.readme-'));
  try {
    options.prepare?.(dir);
    writeFileSync(join(dir, 'example.ts'), code);
    // Plain output whatever the runner's terminal (CI and nx set FORCE_COLOR, which colours console.log).
    const { FORCE_COLOR: _forced, ...env } = process.env;
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], {
      cwd: dir,
      env: { ...env, NO_COLOR: '1' },
      timeout: options.timeoutMs ?? 60_000,
    });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
