// Read YAML files from disk into one input. An unreadable file is a problem (reported like any other),
// not an exception, so `validate` can report it alongside everything else.
import { readFile } from 'node:fs/promises';
import { mergeLoads, parseYaml, type LoadResult } from './yaml-source.ts';

export async function loadYamlFiles(paths: readonly string[]): Promise<LoadResult> {
  const results = await Promise.all(
    paths.map(async (path): Promise<LoadResult> => {
      try {
        return parseYaml(await readFile(path, 'utf8'), path);
      } catch (error) {
        const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        return {
          objects: [],
          problems: [{ severity: 'error', file: path, line: 1, kind: '', message: `cannot read the file (${why})` }],
        };
      }
    }),
  );
  return mergeLoads(results);
}
