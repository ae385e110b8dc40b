// Read the served YAML (files, and the *.yaml / *.yml files of directories) and translate it. The result
// says whether it may replace what is served: any error-level problem refuses the update as a whole.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadYamlFiles } from '../load/files.ts';
import { sortProblems, type Problem } from '../translate/problems.ts';
import { translate, type Translation } from '../translate/translate.ts';
import type { TranslateOptions } from '../translate/model.ts';

export interface LoadedConfig {
  /** The files read, in order (directories expanded). */
  readonly files: readonly string[];
  readonly translation: Translation;
  /** YAML and translation problems, sorted by file and line. */
  readonly problems: readonly Problem[];
  readonly errors: number;
}

export const isYamlName = (name: string): boolean => !name.startsWith('.') && /\.ya?ml$/i.test(name);

/** A directory stands for its YAML files, sorted by name; anything else is read as a file. */
export async function expandInputs(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() !== true) {
      files.push(path); // a missing file becomes a "cannot read" problem
      continue;
    }
    const names = (await readdir(path)).filter(isYamlName).sort();
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
}

export async function loadConfig(paths: readonly string[], options: TranslateOptions): Promise<LoadedConfig> {
  const files = await expandInputs(paths);
  const loaded = await loadYamlFiles(files);
  const translation = translate(loaded.objects, options);
  const problems = sortProblems([...loaded.problems, ...translation.problems]);
  return { files, translation, problems, errors: problems.filter((p) => p.severity === 'error').length };
}
