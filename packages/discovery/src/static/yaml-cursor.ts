// Position-aware reading of a parsed YAML document: every value knows its file:line:col and path,
// so every error names where it is and which field was wrong.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { DiscoveryError } from '../errors.ts';

export class YamlCursor {
  readonly node: Node | null;
  readonly path: string;
  readonly #file: string;
  readonly #lines: LineCounter;
  readonly #offset: number;

  constructor(node: Node | null, path: string, file: string, lines: LineCounter, offset: number) {
    this.node = node;
    this.path = path;
    this.#file = file;
    this.#lines = lines;
    this.#offset = node?.range?.[0] ?? offset;
  }

  /** Parse a document; syntax errors are reported with file:line:col. */
  static parse(text: string, file: string): YamlCursor {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const error = doc.errors[0];
    if (error) {
      const pos = lines.linePos(error.pos[0]);
      throw new DiscoveryError(
        'STATIC_CONFIG_INVALID',
        `${file}:${pos.line}:${pos.col}: invalid YAML: ${error.message.split('\n')[0]}`,
      );
    }
    return new YamlCursor((doc.contents as Node | null) ?? null, '', file, lines, 0);
  }

  get location(): string {
    const pos = this.#lines.linePos(this.#offset);
    return `${this.#file}:${pos.line}:${pos.col}`;
  }

  fail(reason: string): never {
    throw new DiscoveryError('STATIC_CONFIG_INVALID', `${this.location}: ${this.path || '(document)'}: ${reason}`);
  }

  get isNull(): boolean {
    return this.node === null || (isScalar(this.node) && this.node.value === null);
  }

  #child(node: Node | null, segment: string, offset: number): YamlCursor {
    const path = segment.startsWith('[') ? `${this.path}${segment}` : this.path ? `${this.path}.${segment}` : segment;
    return new YamlCursor(node, path, this.#file, this.#lines, offset);
  }

  /** Mapping entries by key; rejects keys not in `allowed` (when given) like serde deny_unknown_fields. */
  map(allowed?: readonly string[]): Map<string, YamlCursor> {
    if (this.isNull) return new Map();
    if (!isMap(this.node)) this.fail('expected a mapping');
    const out = new Map<string, YamlCursor>();
    for (const pair of this.node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const keyOffset = keyNode?.range?.[0] ?? this.#offset;
      if (allowed && !allowed.includes(key)) {
        this.#child(keyNode, key, keyOffset).fail(`unknown field; expected one of ${allowed.join(', ')}`);
      }
      out.set(key, this.#child((pair.value as Node | null) ?? null, key, keyOffset));
    }
    return out;
  }

  /** Entries of a mapping with arbitrary keys (e.g. port maps), key cursor included. */
  entries(): { key: YamlCursor; value: YamlCursor; name: string }[] {
    if (this.isNull) return [];
    if (!isMap(this.node)) this.fail('expected a mapping');
    return this.node.items.map((pair) => {
      const keyNode = pair.key as Node | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : '';
      const offset = keyNode?.range?.[0] ?? this.#offset;
      return {
        name,
        key: this.#child(keyNode, `[${JSON.stringify(name)}]`, offset),
        value: this.#child((pair.value as Node | null) ?? null, `[${JSON.stringify(name)}]`, offset),
      };
    });
  }

  list(): YamlCursor[] {
    if (this.isNull) return [];
    if (!isSeq(this.node)) this.fail('expected a list');
    return this.node.items.map((item, i) => this.#child(item as Node | null, `[${i}]`, this.#offset));
  }

  scalar(): unknown {
    if (!isScalar(this.node)) this.fail('expected a scalar value');
    return this.node.value;
  }

  string(): string {
    const value = this.scalar();
    if (typeof value !== 'string') this.fail(`expected a string, got ${JSON.stringify(value)}`);
    return value;
  }

  bool(): boolean {
    const value = this.scalar();
    if (typeof value !== 'boolean') this.fail(`expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  /** An integer in [min, max]; numeric strings (map keys) are accepted. */
  int(min: number, max: number): number {
    const value = this.scalar();
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      this.fail(`expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
    }
    return n;
  }

  /** One of `names` (serde unit-variant names). */
  oneOf<T extends string>(names: readonly T[]): T {
    const value = this.string();
    if (!names.includes(value as T)) this.fail(`expected one of ${names.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  }
}
