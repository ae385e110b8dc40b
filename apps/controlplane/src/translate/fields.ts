// Typed reads from untyped YAML, each failure reported with the field's path and line. A reader counts
// its errors so the caller can reject the object while still reporting everything wrong with it.
import type { FieldPath, ObjectRef, ProblemLog } from './problems.ts';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function valueAt(root: unknown, path: FieldPath): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (typeof part === 'number') node = Array.isArray(node) ? node[part] : undefined;
    else node = isRecord(node) ? node[part] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

// DNS-1123 label (namespaces, services, ports names) and subdomain (most other names).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDnsLabel(text: string): boolean {
  return text.length <= 63 && DNS_LABEL.test(text);
}

export function isDnsSubdomain(text: string): boolean {
  return text.length <= 253 && DNS_SUBDOMAIN.test(text);
}

export class FieldReader {
  readonly ref: ObjectRef;
  private readonly log: ProblemLog;
  private readonly root: unknown;
  errors = 0;

  constructor(root: unknown, ref: ObjectRef, log: ProblemLog) {
    this.root = root;
    this.ref = ref;
    this.log = log;
  }

  get(path: FieldPath): unknown {
    return valueAt(this.root, path);
  }

  error(path: FieldPath, message: string): void {
    this.errors++;
    this.log.error(this.ref, path, message);
  }

  warn(path: FieldPath, message: string): void {
    this.log.warn(this.ref, path, message);
  }

  string(path: FieldPath, required = false): string | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) {
      if (required) this.error(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.error(path, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** An integer in [min, max]; YAML strings of digits are not accepted, as Kubernetes does not. */
  int(path: FieldPath, min: number, max: number, required = false): number | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) {
      if (required) this.error(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.error(path, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  bool(path: FieldPath): boolean | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.error(path, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  record(path: FieldPath): JsonRecord | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) {
      this.error(path, `must be a mapping, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  list(path: FieldPath): unknown[] {
    const value = this.get(path);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.error(path, `must be a list, got ${describe(value)}`);
      return [];
    }
    return value;
  }

  /** Labels, annotations, selectors: string → string. Non-string values are errors, as in Kubernetes. */
  stringMap(path: FieldPath): Record<string, string> {
    const map = this.record(path);
    const out: Record<string, string> = {};
    if (map === undefined) return out;
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') {
        this.error([...path, key], `must be a string (quote it), got ${describe(value)}`);
        continue;
      }
      out[key] = value;
    }
    return out;
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
