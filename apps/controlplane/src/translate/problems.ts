// Everything wrong with the input, each tied to file:line and the object it belongs to. An error means
// the object was rejected (the rest still translates); a warning means it translated but probably not as
// the author meant.

export type Severity = 'error' | 'warning';

/** Where an input object came from; `lineOf` finds the line of a field inside it when known. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based line of the object's first line. */
  readonly line: number;
  readonly lineOf?: (path: readonly (string | number)[]) => number | undefined;
}

/** The object a problem is about: `Kind namespace/name`, or just a file position for YAML syntax errors. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly source: SourceLocation;
}

export interface Problem {
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  /** Empty for problems that are not about one object (YAML syntax). */
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Dotted path of the offending field, e.g. `spec.ports[0].targetPort`. */
  readonly field?: string;
  readonly message: string;
}

export type FieldPath = readonly (string | number)[];

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** `Kind ns/name`, `Kind name` for cluster-scoped objects, `Kind <unnamed>` when the name is missing. */
export function describeObject(ref: { kind: string; namespace?: string; name?: string }): string {
  const name = ref.name === undefined || ref.name === '' ? '<unnamed>' : ref.name;
  return ref.namespace === undefined ? `${ref.kind} ${name}` : `${ref.kind} ${ref.namespace}/${name}`;
}

/** `file:line: Kind ns/name: error: field: message`, the format `controlplane validate` prints. */
export function formatProblem(problem: Problem): string {
  const where = `${problem.file}:${problem.line}`;
  const what = problem.kind === '' ? '' : ` ${describeObject(problem)}:`;
  const field = problem.field === undefined || problem.field === '' ? '' : ` ${problem.field}:`;
  return `${where}:${what} ${problem.severity}:${field} ${problem.message}`;
}

/** Collects problems during one translation; the line is the field's own line when the source knows it. */
export class ProblemLog {
  readonly list: Problem[] = [];
  private readonly seen = new Set<string>();

  /** Identical reports (e.g. one namespace label seen from many pods) are kept once. */
  report(severity: Severity, ref: ObjectRef, path: FieldPath, message: string): void {
    const line = (path.length > 0 ? ref.source.lineOf?.(path) : undefined) ?? ref.source.line;
    const key = [severity, ref.source.file, line, ref.kind, ref.namespace, ref.name, formatPath(path), message].join(
      '\0',
    );
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({
      severity,
      file: ref.source.file,
      line,
      kind: ref.kind,
      ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
      ...(ref.name === undefined ? {} : { name: ref.name }),
      ...(path.length === 0 ? {} : { field: formatPath(path) }),
      message,
    });
  }

  error(ref: ObjectRef, path: FieldPath, message: string): void {
    this.report('error', ref, path, message);
  }

  warn(ref: ObjectRef, path: FieldPath, message: string): void {
    this.report('warning', ref, path, message);
  }

  /** Problems not tied to an object, e.g. YAML syntax errors. */
  raw(problem: Problem): void {
    this.list.push(problem);
  }

  errorCount(): number {
    return this.list.filter((p) => p.severity === 'error').length;
  }
}

/** File order, then line, then errors before warnings: the order a reader fixes them in. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      a.message.localeCompare(b.message),
  );
}
