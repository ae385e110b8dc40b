// Collecting what is wrong with a loaded object, with the field path, without throwing.
import type { PolicyProblem } from './model.ts';

export type Path = readonly (string | number)[];

export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export class Problems {
  readonly list: PolicyProblem[] = [];
  policy: string;

  constructor(policy: string) {
    this.policy = policy;
  }

  error(path: Path, message: string, effect: string): void {
    this.list.push({ policy: this.policy, field: formatPath(path), path, message, severity: 'error', effect });
  }

  warn(path: Path, message: string, effect = 'accepted as written'): void {
    this.list.push({ policy: this.policy, field: formatPath(path), path, message, severity: 'warning', effect });
  }

  get hasErrors(): boolean {
    return this.list.some((problem) => problem.severity === 'error');
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** One line for an error message: `policy ns/name: spec.rules[0]...: what (effect)`. */
export function problemLine(problem: PolicyProblem): string {
  const where = problem.location ? `${problem.location.file}:${problem.location.line}: ` : '';
  const field = problem.field ? `${problem.field}: ` : '';
  return `${where}${problem.policy}: ${field}${problem.message}`;
}
