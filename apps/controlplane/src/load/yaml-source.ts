// Multi-document Kubernetes YAML → plain objects that remember their file, line and the line of every
// field, so a problem found much later can still point at the exact line. `kind: List` is expanded.
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { FieldPath, Problem, SourceLocation } from '../translate/problems.ts';

/** One input object (any shape; translate validates it) and where it came from. */
export interface SourcedObject {
  readonly value: unknown;
  readonly source: SourceLocation;
}

export interface LoadResult {
  readonly objects: SourcedObject[];
  /** YAML syntax errors and documents that are not objects; those documents are skipped. */
  readonly problems: Problem[];
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}

/** The line of the deepest part of `path` that exists under `root` (the key's line for map entries). */
function lineWithin(root: unknown, path: FieldPath, lines: LineCounter): number | undefined {
  let node: unknown = root;
  let best = rangeStart(root);
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalarLike(p.key) ? p.key.value : p.key) === part);
      if (pair === undefined) break;
      best = rangeStart(pair.key) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (item === undefined) break;
      best = rangeStart(item) ?? best;
      node = item;
    } else {
      break;
    }
  }
  return best === undefined ? undefined : lines.linePos(best).line;
}

function isScalarLike(value: unknown): value is { value: unknown } {
  return typeof value === 'object' && value !== null && 'value' in value;
}

function locate(file: string, node: unknown, lines: LineCounter): SourceLocation {
  const start = rangeStart(node);
  return {
    file,
    line: start === undefined ? 1 : lines.linePos(start).line,
    lineOf: (path) => lineWithin(node, path, lines),
  };
}

function syntaxProblem(file: string, line: number, message: string): Problem {
  return { severity: 'error', file, line, kind: '', message };
}

function collect(file: string, doc: Document.Parsed, lines: LineCounter, out: LoadResult): void {
  const contents = doc.contents as Node | null;
  if (contents === null) return; // empty document (e.g. a trailing ---)
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const here = locate(file, contents, lines);
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.problems.push(
      syntaxProblem(file, here.line, 'document is not a Kubernetes object (expected a mapping with kind)'),
    );
    return;
  }
  const object = value as Record<string, unknown>;
  if (object['kind'] === 'List' && Array.isArray(object['items']) && isMap(contents)) {
    const itemsNode = contents.get('items', true);
    object['items'].forEach((item, i) => {
      const node = isSeq(itemsNode) ? itemsNode.items[i] : contents;
      out.objects.push({ value: item, source: locate(file, node, lines) });
    });
    return;
  }
  out.objects.push({ value: object, source: here });
}

/** Parse one file's text. Never throws: syntax errors come back as problems with their line. */
export function parseYaml(text: string, file: string): LoadResult {
  const out: LoadResult = { objects: [], problems: [] };
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error !== undefined) {
      // the first error only: the ones after it are usually its echoes
      const line = lines.linePos(error.pos[0]).line;
      out.problems.push(syntaxProblem(file, line, `YAML syntax: ${error.message.split('\n')[0]}`));
      continue;
    }
    collect(file, doc, lines, out);
  }
  return out;
}

/** Several files' results in order, as one input. */
export function mergeLoads(results: readonly LoadResult[]): LoadResult {
  return {
    objects: results.flatMap((r) => r.objects),
    problems: results.flatMap((r) => r.problems),
  };
}
