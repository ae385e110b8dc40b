// A small typed reader over plain JSON objects (Kubernetes objects as YAML or xDS Struct deliver them)
// that records every problem with its field path, so a rejected route is reported as
// `HTTPRoute default/r: spec.rules[0].matches[0].path.type: ...` and a YAML loader can add file:line.

export type FieldPath = readonly (string | number)[];
export type JsonRecord = Record<string, unknown>;

/** One thing wrong with a Gateway API object; `error` rejects it, `warning` keeps it. */
export interface RouteProblem {
  /** The object's kind, e.g. `HTTPRoute`. */
  readonly kind: string;
  /** `namespace/name`. */
  readonly object: string;
  /** Dotted path of the offending field, e.g. `spec.rules[0].matches[0].path.value`; '' for the whole object. */
  readonly field: string;
  /** The same path as keys/indices, for locating it in YAML. */
  readonly path: FieldPath;
  readonly message: string;
  readonly severity: 'error' | 'warning';
  /** Set by the YAML loader. */
  readonly location?: { readonly file: string; readonly line: number; readonly column: number };
}

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** `field: message` (`(root): message` for the whole object): how a waypoint NACK names a problem. */
export function problemText(problem: Pick<RouteProblem, 'field' | 'message'>): string {
  return `${problem.field || '(root)'}: ${problem.message}`;
}

/** One line for a person: `file:line: HTTPRoute ns/name: field: message`. */
export function problemLine(problem: RouteProblem): string {
  const where = problem.location ? `${problem.location.file}:${problem.location.line}: ` : '';
  return `${where}${problem.kind} ${problem.object}: ${problemText(problem)}`;
}

/** Collects the problems of one object while it is read. */
export class ProblemList {
  readonly #found: { severity: 'error' | 'warning'; path: FieldPath; message: string }[] = [];

  error(path: FieldPath, message: string): void {
    this.#found.push({ severity: 'error', path, message });
  }

  warn(path: FieldPath, message: string): void {
    this.#found.push({ severity: 'warning', path, message });
  }

  get hasErrors(): boolean {
    return this.#found.some((problem) => problem.severity === 'error');
  }

  /** Everything found, attributed to `kind namespace/name`. */
  for(kind: string, object: string): RouteProblem[] {
    return this.#found.map((p) => ({ kind, object, field: formatPath(p.path), ...p }));
  }
}

/** Field accessors that report wrong types and return undefined for them. */
export class ObjectReader {
  readonly problems: ProblemList;

  constructor(problems: ProblemList = new ProblemList()) {
    this.problems = problems;
  }

  string(
    value: unknown,
    path: FieldPath,
    options: { required?: boolean; nonEmpty?: boolean } = {},
  ): string | undefined {
    if (value === undefined || value === null) {
      if (options.required) this.problems.error(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.problems.error(path, `must be a string, found ${describe(value)}`);
      return undefined;
    }
    if (options.nonEmpty && value === '') {
      this.problems.error(path, 'must not be empty');
      return undefined;
    }
    return value;
  }

  integer(value: unknown, path: FieldPath, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problems.error(path, `must be a whole number between ${min} and ${max}, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  list(value: unknown, path: FieldPath): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problems.error(path, `must be a list, found ${describe(value)}`);
      return [];
    }
    return value;
  }

  record(value: unknown, path: FieldPath): JsonRecord | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) {
      this.problems.error(path, `must be a mapping, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** Anchored RegExp (Envoy/RE2 full match); undefined and an error when it does not compile. */
  regex(value: string, path: FieldPath): RegExp | undefined {
    try {
      return new RegExp(`^(?:${value})$`);
    } catch (error) {
      this.problems.error(path, `is not a valid regular expression: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** `metadata.name` / `metadata.namespace`, falling back to where the object was received from. */
  metadata(
    raw: JsonRecord,
    fallback: { name: string; namespace: string },
  ): {
    metadata: JsonRecord;
    name: string;
    namespace: string;
  } {
    const metadata = this.record(raw['metadata'], ['metadata']) ?? {};
    const name = this.string(metadata['name'], ['metadata', 'name'], { nonEmpty: true }) ?? fallback.name;
    const namespace =
      this.string(metadata['namespace'], ['metadata', 'namespace'], { nonEmpty: true }) ?? fallback.namespace;
    return { metadata, name, namespace };
  }
}
