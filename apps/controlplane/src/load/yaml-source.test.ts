import { describe, expect, it } from 'vitest';
import { parseYaml } from './yaml-source.ts';

const text = `# comment
apiVersion: v1
kind: Pod
metadata:
  name: a
spec:
  containers:
    - name: c
      ports:
        - name: http
          containerPort: 8080
---
---
apiVersion: v1
kind: List
items:
  - kind: Namespace
    metadata: {name: x}
  - kind: Namespace
    metadata:
      name: y
`;

describe('parseYaml', () => {
  it('keeps the file and line of every object and expands kind: List', () => {
    const { objects, problems } = parseYaml(text, 'in.yaml');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [(o.value as { kind: string }).kind, o.source.file, o.source.line])).toEqual([
      ['Pod', 'in.yaml', 2],
      ['Namespace', 'in.yaml', 17],
      ['Namespace', 'in.yaml', 19],
    ]);
  });

  it('finds the line of a field, or of its deepest existing parent', () => {
    const pod = parseYaml(text, 'in.yaml').objects[0]!;
    expect(pod.source.lineOf!(['spec', 'containers', 0, 'ports', 0, 'containerPort'])).toBe(11);
    expect(pod.source.lineOf!(['metadata', 'name'])).toBe(5);
    expect(pod.source.lineOf!(['metadata', 'labels', 'app'])).toBe(4);
  });

  it('reports a syntax error with its line and still returns the other documents', () => {
    const broken =
      'kind: Namespace\nmetadata: {name: ok}\n---\nkind: Pod\nmetadata:\n  name: [unclosed\n---\nkind: Namespace\nmetadata: {name: also-ok}\n';
    const { objects, problems } = parseYaml(broken, 'b.yaml');
    expect(objects).toHaveLength(2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'b.yaml', kind: '' });
    expect(problems[0]!.line).toBeGreaterThanOrEqual(6);
    expect(problems[0]!.message).toMatch(/^YAML syntax/);
  });

  it('refuses duplicate keys and documents that are not mappings', () => {
    const { objects, problems } = parseYaml('kind: Pod\nkind: Service\n---\n- a list\n', 'd.yaml');
    expect(objects).toHaveLength(0);
    expect(problems.map((p) => p.line)).toEqual([2, 4]);
  });
});
