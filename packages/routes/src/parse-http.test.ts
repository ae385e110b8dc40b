import { describe, expect, it } from 'vitest';
import { parseHttpRoute } from './parse-http.ts';
import { problemText } from './reader.ts';

const parse = (spec: unknown) => {
  const parsed = parseHttpRoute(
    { kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec },
    { name: 'r', namespace: 'default' },
  );
  const errors = parsed.problems.filter((p) => p.severity === 'error').map(problemText);
  return { ...parsed, errors };
};
const parent = { parentRefs: [{ group: '', kind: 'Service', name: 'echo' }] };

describe('parseHttpRoute', () => {
  it('fills Gateway API defaults', () => {
    const { route } = parse({ ...parent, rules: [{ backendRefs: [{ name: 'echo' }] }] });
    expect(route?.rules[0]).toMatchObject({
      matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }],
      backendRefs: [{ group: '', kind: 'Service', name: 'echo', namespace: 'default', weight: 1, filters: [] }],
    });
    expect(route?.parentRefs[0]).toEqual({ group: '', kind: 'Service', name: 'echo', namespace: 'default' });
    expect(parse(parent).route?.rules).toHaveLength(1);
  });

  it('names the field of every structural error', () => {
    expect(parse({}).errors).toEqual(['spec.parentRefs: is required (a Service for a mesh route)']);
    expect(parse({ ...parent, rules: [{ matches: [{ path: { type: 'Exact', value: 'no-slash' } }] }] }).errors).toEqual(
      ['spec.rules[0].matches[0].path.value: must start with "/", found "no-slash"'],
    );
    expect(
      parse({ ...parent, rules: [{ matches: [{ headers: [{ name: 'x', type: 'RegularExpression', value: '(' }] }] }] })
        .errors[0],
    ).toMatch(/^spec\.rules\[0\]\.matches\[0\]\.headers\[0\]\.value: is not a valid regular expression/);
    expect(
      parse({ ...parent, rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 404 } }] }] })
        .errors,
    ).toEqual(['spec.rules[0].filters[0].requestRedirect.statusCode: must be 301, 302, 303, 307 or 308, found 404']);
    expect(parse({ ...parent, rules: [{ filters: [{ type: 'Teleport' }] }] }).errors).toEqual([
      'spec.rules[0].filters[0].type: unknown filter type "Teleport"',
    ]);
    expect(parse({ ...parent, rules: [{ backendRefs: [{ name: 'x', weight: -1 }] }] }).errors).toEqual([
      'spec.rules[0].backendRefs[0].weight: must be a whole number between 0 and 1000000, found number -1',
    ]);
    expect(parse({ ...parent, rules: [{ timeouts: { request: '1s', backendRequest: '2s' } }] }).errors).toEqual([
      'spec.rules[0].timeouts.backendRequest: must not be longer than timeouts.request',
    ]);
    expect(
      parse({
        ...parent,
        rules: [
          {
            matches: [{ path: { type: 'Exact', value: '/a' } }],
            filters: [
              { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } },
            ],
          },
        ],
      }).errors,
    ).toEqual(['spec.rules[0].filters: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match']);
  });

  it('keeps valid filters it does not implement as warnings', () => {
    const { route, errors } = parse({
      ...parent,
      rules: [{ filters: [{ type: 'CORS', cors: {} }], backendRefs: [{ name: 'echo' }] }],
    });
    expect(errors).toEqual([]);
    expect(route?.rules[0]?.filters).toEqual([{ type: 'Unsupported', name: 'CORS' }]);
    expect(route?.warnings).toEqual([
      'spec.rules[0]: filter CORS is not implemented: requests matching this rule get 500',
    ]);
  });

  it('reads timeouts as GEP-2257 durations ("0s" disables)', () => {
    const { route } = parse({
      ...parent,
      rules: [{ timeouts: { request: '1m30s', backendRequest: '500ms' } }, { timeouts: { request: '0s' } }],
    });
    expect(route?.rules[0]).toMatchObject({ requestTimeoutMs: 90_000, backendRequestTimeoutMs: 500 });
    expect(route?.rules[1]?.requestTimeoutMs).toBeUndefined();
    expect(parse({ ...parent, rules: [{ timeouts: { request: '10 seconds' } }] }).errors[0]).toContain(
      'spec.rules[0].timeouts.request',
    );
  });
});

describe('problems', () => {
  it('carry the object, the field as text and as a path, and the severity', () => {
    const parsed = parseHttpRoute(
      {
        metadata: { name: 'r', namespace: 'shop' },
        spec: {
          parentRefs: [{ kind: 'Service', name: 'cart' }],
          rules: [{ retry: {}, matches: [{ method: 'FETCH' }] }],
        },
      },
      { name: 'x', namespace: 'default' },
    );
    expect(parsed.route).toBeUndefined();
    expect(parsed.problems).toEqual([
      {
        kind: 'HTTPRoute',
        object: 'shop/r',
        field: 'spec.rules[0].matches[0].method',
        path: ['spec', 'rules', 0, 'matches', 0, 'method'],
        message: expect.stringMatching(/^must be one of GET, HEAD, .*found "FETCH"$/),
        severity: 'error',
      },
      {
        kind: 'HTTPRoute',
        object: 'shop/r',
        field: 'spec.rules[0].retry',
        path: ['spec', 'rules', 0, 'retry'],
        message: 'is not implemented by this proxy and is ignored',
        severity: 'warning',
      },
    ]);
  });

  it('names the object from where it was received when metadata does not', () => {
    const parsed = parseHttpRoute({ spec: {} }, { name: 'fallback', namespace: 'ns' });
    expect(parsed.problems[0]).toMatchObject({ object: 'ns/fallback', field: 'spec.parentRefs' });
  });
});
