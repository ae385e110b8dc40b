import { describe, expect, it } from 'vitest';
import { problemLine } from './reader.ts';
import { loadRouteDocuments } from './yaml.ts';

const text = `apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
---
kind: HTTPRoute
metadata:
  name: good
  namespace: shop
spec:
  parentRefs:
  - {group: "", kind: Service, name: cart}
  rules:
  - retry: {attempts: 3}
    backendRefs: [{name: cart, port: 80}]
---
kind: List
items:
- kind: HTTPRoute
  metadata: {name: bad}
  spec:
    parentRefs: [{group: "", kind: Service, name: cart}]
    rules:
    - matches:
      - path: {type: Exact, value: no-slash}
`;

describe('loadRouteDocuments', () => {
  it('loads the routes without errors and locates every problem as file:line:column', () => {
    const loaded = loadRouteDocuments(text, { file: 'routes.yaml', defaultNamespace: 'shop' });
    expect(loaded.httpRoutes.map((route) => route.key)).toEqual(['shop/good']);
    expect(loaded.ignored).toEqual([{ kind: 'Service', name: 'cart', line: 1 }]);
    expect(loaded.problems.map(problemLine)).toEqual([
      'routes.yaml:13: HTTPRoute shop/good: spec.rules[0].retry: is not implemented by this proxy and is ignored',
      'routes.yaml:24: HTTPRoute shop/bad: spec.rules[0].matches[0].path.value: must start with "/", found "no-slash"',
    ]);
    expect(loaded.problems[1]).toMatchObject({ severity: 'error', location: { line: 24, column: 36 } });
  });

  it('points a missing field at its nearest parent, and a syntax error at its position', () => {
    const missing = loadRouteDocuments('kind: HTTPRoute\nmetadata: {name: r}\nspec:\n  hostnames: [a]\n');
    expect(missing.problems.map(problemLine)).toEqual([
      '<input>:4: HTTPRoute default/r: spec.parentRefs: is required (a Service for a mesh route)',
    ]);
    const broken = loadRouteDocuments('kind: HTTPRoute\nspec: [unclosed\n', { file: 'x.yaml' });
    expect(broken.problems[0]).toMatchObject({ kind: 'YAML', severity: 'error', location: { file: 'x.yaml' } });
    expect(broken.httpRoutes).toEqual([]);
  });
});
