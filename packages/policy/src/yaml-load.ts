// Multi-document YAML (or JSON) text → AuthorizationPolicy and RequestAuthentication models, with every
// problem located as file:line:column. Documents of other kinds are listed, not loaded.
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { PolicyError } from './errors.ts';
import { loadRequestAuthentication, type RequestAuthenticationPolicy } from './jwt/request-authn.ts';
import { loadAuthorizationPolicy, type LoadOptions } from './kube-policy.ts';
import type { AuthorizationPolicy, PolicyProblem } from './model.ts';
import { isRecord, problemLine } from './problems.ts';

export interface YamlLoadOptions extends LoadOptions {
  /** Name used in locations; default "<input>". */
  readonly file?: string;
}

export interface LoadedDocuments {
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthenticationPolicy[];
  /** Every problem, located; policies are still returned in their fail-safe form. */
  readonly problems: readonly PolicyProblem[];
  /** Documents of other kinds (Gateway, HTTPRoute, …) for other loaders. */
  readonly ignored: readonly { readonly kind: string; readonly name: string; readonly line: number }[];
}

type Located = { file: string; line: number; column: number };

function locate(doc: Document, counter: LineCounter, file: string, path: readonly (string | number)[]): Located {
  // The exact node may not exist (a missing field): use the nearest ancestor that does.
  for (let length = path.length; length >= 0; length--) {
    const node = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      const { line, col } = counter.linePos(range[0]);
      return { file, line, column: col };
    }
  }
  return { file, line: 1, column: 1 };
}

export function loadPolicyDocuments(text: string, options: YamlLoadOptions = {}): LoadedDocuments {
  const file = options.file ?? '<input>';
  const counter = new LineCounter();
  const authorizationPolicies: AuthorizationPolicy[] = [];
  const requestAuthentications: RequestAuthenticationPolicy[] = [];
  const problems: PolicyProblem[] = [];
  const ignored: { kind: string; name: string; line: number }[] = [];
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const { line, col } = counter.linePos(error.pos[0]);
        problems.push({
          policy: '<yaml>',
          field: '',
          path: [],
          message: `YAML syntax error: ${error.message.split('\n')[0]}`,
          severity: 'error',
          effect: 'document skipped',
          location: { file, line, column: col },
        });
      }
      continue;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const items: { value: unknown; prefix: (string | number)[] }[] =
      isRecord(value) && value['kind'] === 'List' && Array.isArray(value['items'])
        ? value['items'].map((item: unknown, index) => ({ value: item, prefix: ['items', index] }))
        : [{ value, prefix: [] }];
    for (const { value: item, prefix } of items) {
      const kind = isRecord(item) && typeof item['kind'] === 'string' ? item['kind'] : '';
      const located = (found: readonly PolicyProblem[]) =>
        found.map((problem) => ({ ...problem, location: locate(doc, counter, file, [...prefix, ...problem.path]) }));
      if (kind === 'AuthorizationPolicy') {
        const loaded = loadAuthorizationPolicy(item, options);
        const where = located(loaded.problems);
        authorizationPolicies.push({ ...loaded.policy, problems: where });
        problems.push(...where);
      } else if (kind === 'RequestAuthentication') {
        const loaded = loadRequestAuthentication(item, options);
        const where = located(loaded.problems);
        requestAuthentications.push({ ...loaded.policy, problems: where });
        problems.push(...where);
      } else {
        const metadata = isRecord(item) && isRecord(item['metadata']) ? item['metadata'] : {};
        const name = typeof metadata['name'] === 'string' ? metadata['name'] : '';
        ignored.push({ kind: kind || '<no kind>', name, line: locate(doc, counter, file, prefix).line });
      }
    }
  }
  return { authorizationPolicies, requestAuthentications, problems, ignored };
}

/** Strict: throws `INVALID_POLICY` (or `INVALID_YAML`) with file:line for the first error. */
export function parsePolicyDocuments(text: string, options: YamlLoadOptions = {}): LoadedDocuments {
  const loaded = loadPolicyDocuments(text, options);
  const errors = loaded.problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new PolicyError(
      first.policy === '<yaml>' ? 'INVALID_YAML' : 'INVALID_POLICY',
      `${problemLine(first)}${more}`,
    );
  }
  return loaded;
}
