// A small typed reader over plain JSON objects that records every problem with its field path, so a
// rejected L7 object is reported as `HTTPRoute default/r: spec.rules[0].matches[0].path.type: ...`.

export type Path = readonly (string | number)[];
export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out || '(root)';
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

export class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(path: Path, message: string): void {
    this.errors.push(`${formatPath(path)}: ${message}`);
  }

  warn(path: Path, message: string): void {
    this.warnings.push(`${formatPath(path)}: ${message}`);
  }
}

/** Field accessors that report wrong types and return undefined for them. */
export class Reader {
  readonly problems: Problems;

  constructor(problems: Problems) {
    this.problems = problems;
  }

  string(value: unknown, path: Path, options: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
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

  integer(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problems.error(path, `must be a whole number between ${min} and ${max}, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  list(value: unknown, path: Path): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problems.error(path, `must be a list, found ${describe(value)}`);
      return [];
    }
    return value;
  }

  record(value: unknown, path: Path): JsonRecord | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) {
      this.problems.error(path, `must be a mapping, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** Anchored RegExp (Envoy/RE2 full match); undefined and an error when it does not compile. */
  regex(value: string, path: Path): RegExp | undefined {
    try {
      return new RegExp(`^(?:${value})$`);
    } catch (error) {
      this.problems.error(path, `is not a valid regular expression: ${(error as Error).message}`);
      return undefined;
    }
  }
}
