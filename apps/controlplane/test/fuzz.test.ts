// Whatever a user writes, translate reports it; it never throws, and every problem points into the file.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseYaml, type SourcedObject } from '../src/load/yaml-source.ts';
import { translate } from '../src/translate/translate.ts';

const meshText = readFileSync(resolve(import.meta.dirname, '../../../examples/mesh.yaml'), 'utf8');
const mesh = parseYaml(meshText, 'mesh.yaml').objects;
const meshLines = meshText.split('\n').length;

/** Every path to a value inside an object, so a mutation can land anywhere. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function withValue(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(root) ? [...(root as unknown[])] : { ...(root as Record<string, unknown>) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = withValue(copy[head!], rest, value);
  return copy;
}

describe('translate on mutated input', () => {
  it('never throws and keeps every problem inside the file, whatever one field of the example becomes', () => {
    const mutation = fc.integer({ min: 0, max: mesh.length - 1 }).chain((index) =>
      fc.record({
        index: fc.constant(index),
        path: fc.constantFrom(...paths(mesh[index]!.value)),
        value: fc.oneof(
          fc.anything(),
          fc.constantFrom('127.0.1.1', 'http', 'none', 'ambient', 'waypoint', 0, -1, 65536, null, '', [], {}),
        ),
      }),
    );
    fc.assert(
      fc.property(mutation, ({ index, path, value }) => {
        const objects: SourcedObject[] = mesh.map((o, i) =>
          i === index ? { ...o, value: withValue(o.value, path, value) } : o,
        );
        const t = translate(objects);
        for (const p of t.problems) {
          expect(p.file).toBe('mesh.yaml');
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.line).toBeLessThanOrEqual(meshLines);
          expect(p.message.length).toBeGreaterThan(0);
        }
        // one broken object costs at most itself and whatever takes its address
        const workloads = t.addresses.filter((a) => 'workload' in a.resource).length;
        expect(workloads).toBeGreaterThanOrEqual(4);
      }),
      { numRuns: 300 },
    );
  });
});
