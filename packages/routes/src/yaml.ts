// Multi-document YAML (or JSON) text → HTTPRoutes, with every problem located as file:line:column.
// Documents of other kinds are listed, not loaded.
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { HttpRoute } from './model.ts';
import { parseHttpRoute } from './parse-http.ts';
import { isRecord, type FieldPath, type RouteProblem } from './reader.ts';

export interface RouteYamlOptions {
  /** Name used in locations; default "<input>". */
  readonly file?: string;
  /** Namespace of objects without metadata.namespace; default "default". */
  readonly defaultNamespace?: string;
}

export interface LoadedRoutes {
  /** The routes without errors. */
  readonly httpRoutes: readonly HttpRoute[];
  /** Every problem, located; an object with an error is not in `httpRoutes`. */
  readonly problems: readonly RouteProblem[];
  /** Documents of other kinds (Services, policies, …) for other loaders. */
  readonly ignored: readonly { readonly kind: string; readonly name: string; readonly line: number }[];
}

type Location = NonNullable<RouteProblem['location']>;

/** The line of the field at `path`, or of its nearest ancestor that exists (a missing field). */
function locate(doc: Document, counter: LineCounter, file: string, path: FieldPath): Location {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const start = (node as { range?: readonly number[] } | null | undefined)?.range?.[0];
    if (start !== undefined) {
      const position = counter.linePos(start);
      return { file, line: position.line, column: position.col };
    }
  }
  return { file, line: 1, column: 1 };
}

export function loadRouteDocuments(text: string, options: RouteYamlOptions = {}): LoadedRoutes {
  const file = options.file ?? '<input>';
  const namespace = options.defaultNamespace ?? 'default';
  const counter = new LineCounter();
  const httpRoutes: HttpRoute[] = [];
  const problems: RouteProblem[] = [];
  const ignored: { kind: string; name: string; line: number }[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: counter, prettyErrors: false })) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const position = counter.linePos(error.pos[0]);
        problems.push({
          kind: 'YAML',
          object: '<document>',
          field: '',
          path: [],
          message: `syntax error: ${error.message.split('\n')[0]}`,
          severity: 'error',
          location: { file, line: position.line, column: position.col },
        });
      }
      continue;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const items =
      isRecord(value) && value['kind'] === 'List' && Array.isArray(value['items'])
        ? value['items'].map((item: unknown, index) => ({ item, prefix: ['items', index] }))
        : [{ item: value, prefix: [] as (string | number)[] }];
    for (const { item, prefix } of items) {
      const kind = isRecord(item) && typeof item['kind'] === 'string' ? item['kind'] : '';
      const metadata = isRecord(item) && isRecord(item['metadata']) ? item['metadata'] : {};
      const name = typeof metadata['name'] === 'string' ? metadata['name'] : '';
      if (kind !== 'HTTPRoute') {
        ignored.push({ kind: kind || '<no kind>', name, line: locate(doc, counter, file, prefix).line });
        continue;
      }
      const parsed = parseHttpRoute(item, { name: name || '<unnamed>', namespace });
      for (const problem of parsed.problems)
        problems.push({ ...problem, location: locate(doc, counter, file, [...prefix, ...problem.path]) });
      if (parsed.route) httpRoutes.push(parsed.route);
    }
  }
  return { httpRoutes, problems, ignored };
}
