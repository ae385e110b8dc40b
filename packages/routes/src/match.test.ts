import { describe, expect, it } from 'vitest';
import { parseHttpRoute } from './parse-http.ts';
import type { HttpRoute } from './model.ts';
import { problemLine } from './reader.ts';
import { attachedRoutes, buildRouteTable, prefixMatches, selectRoute, type RoutedRequest } from './match.ts';

function route(name: string, rules: unknown[], extra: Record<string, unknown> = {}): HttpRoute {
  const parsed = parseHttpRoute(
    {
      kind: 'HTTPRoute',
      metadata: { name, namespace: 'default', ...extra },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo' }], rules },
    },
    { name, namespace: 'default' },
  );
  if (!parsed.route) throw new Error(parsed.problems.map(problemLine).join('; '));
  return parsed.route;
}

const request = (
  path: string,
  more: { method?: string; headers?: Record<string, string>; query?: string } = {},
): RoutedRequest => ({
  path,
  query: new URLSearchParams(more.query ?? ''),
  method: more.method ?? 'GET',
  header: (name) => more.headers?.[name],
});

const backend = (name: string) => [{ name, port: 80 }];
const pick = (routes: HttpRoute[], req: RoutedRequest) => {
  const entry = selectRoute(buildRouteTable(routes), req);
  return entry ? entry.rule.backendRefs[0]?.name : '404';
};

describe('PathPrefix', () => {
  it('matches whole path elements, ignoring a trailing slash on the prefix', () => {
    expect(prefixMatches('/abc', '/abc')).toBe(true);
    expect(prefixMatches('/abc', '/abc/')).toBe(true);
    expect(prefixMatches('/abc', '/abc/def')).toBe(true);
    expect(prefixMatches('/abc', '/abcdef')).toBe(false);
    expect(prefixMatches('/abc/', '/abc')).toBe(true);
    expect(prefixMatches('/', '/anything')).toBe(true);
  });
});

describe('precedence (Gateway API, across all attached routes)', () => {
  // MeshHTTPRouteMatching: prefix / or header version=one → v1; prefix /v2 or header version=two → v2.
  const routes = [
    route('matching', [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' } }, { headers: [{ name: 'version', value: 'one' }] }],
        backendRefs: backend('v1'),
      },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/v2' } }, { headers: [{ name: 'version', value: 'two' }] }],
        backendRefs: backend('v2'),
      },
    ]),
  ];

  it('longest prefix wins, element-wise', () => {
    expect(pick(routes, request('/'))).toBe('v1');
    expect(pick(routes, request('/v2'))).toBe('v2');
    expect(pick(routes, request('/v2/example'))).toBe('v2');
    expect(pick(routes, request('/v2example'))).toBe('v1');
    expect(pick(routes, request('/foo/v2/example'))).toBe('v1');
  });

  it('more header matches beat fewer at the same path', () => {
    expect(pick(routes, request('/', { headers: { version: 'two' } }))).toBe('v2');
    expect(pick(routes, request('/v2', { headers: { version: 'one' } }))).toBe('v2');
  });

  it('exact beats prefix, method beats none, then headers, then query parameters', () => {
    const table = [
      route('a', [
        { matches: [{ path: { type: 'PathPrefix', value: '/x' } }], backendRefs: backend('prefix') },
        { matches: [{ path: { type: 'Exact', value: '/x' } }], backendRefs: backend('exact') },
        { matches: [{ path: { type: 'PathPrefix', value: '/y' }, method: 'POST' }], backendRefs: backend('method') },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/y' }, headers: [{ name: 'a', value: '1' }] }],
          backendRefs: backend('header'),
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/q' }, queryParams: [{ name: 'animal', value: 'whale' }] }],
          backendRefs: backend('whale'),
        },
        {
          matches: [
            {
              path: { type: 'PathPrefix', value: '/q' },
              queryParams: [{ name: 'animal', type: 'RegularExpression', value: 'dol.*' }],
            },
          ],
          backendRefs: backend('dolphin'),
        },
      ]),
    ];
    expect(pick(table, request('/x'))).toBe('exact');
    expect(pick(table, request('/x/1'))).toBe('prefix');
    expect(pick(table, request('/y', { method: 'POST', headers: { a: '1' } }))).toBe('method');
    expect(pick(table, request('/y', { headers: { a: '1' } }))).toBe('header');
    expect(pick(table, request('/y'))).toBe('404');
    expect(pick(table, request('/q', { query: 'animal=whale&extra=1' }))).toBe('whale');
    expect(pick(table, request('/q', { query: 'animal=dolphin' }))).toBe('dolphin');
    expect(pick(table, request('/q', { query: 'animal=cat' }))).toBe('404');
  });

  it('breaks ties by the oldest route, then namespace/name, then rule order', () => {
    const older = route('zzz', [{ backendRefs: backend('older') }], { creationTimestamp: '2020-01-01T00:00:00Z' });
    const newer = route('aaa', [{ backendRefs: backend('newer') }], { creationTimestamp: '2024-01-01T00:00:00Z' });
    // L7Store hands routes over sorted by age then name; the table keeps that order for ties.
    expect(pick([older, newer], request('/'))).toBe('older');
    const twoRules = route('r', [{ backendRefs: backend('first') }, { backendRefs: backend('second') }]);
    expect(pick([twoRules], request('/'))).toBe('first');
  });
});

describe('attachment', () => {
  it('takes Service parents in the Service namespace, all ports or the given one', () => {
    const any = route('any', [{}]);
    const port81 = parseHttpRoute(
      {
        metadata: { name: 'p', namespace: 'default' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 81 }] },
      },
      { name: 'p', namespace: 'default' },
    ).route!;
    const consumer = parseHttpRoute(
      {
        metadata: { name: 'c', namespace: 'other' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo', namespace: 'default' }] },
      },
      { name: 'c', namespace: 'other' },
    ).route!;
    const gateway = parseHttpRoute(
      { metadata: { name: 'g', namespace: 'default' }, spec: { parentRefs: [{ name: 'waypoint' }] } },
      { name: 'g', namespace: 'default' },
    ).route!;
    const routes = [any, port81, consumer, gateway];
    const echo = { name: 'echo', namespace: 'default' };
    expect(attachedRoutes(routes, echo, 80).map((r) => r.name)).toEqual(['any']);
    expect(attachedRoutes(routes, echo, 81).map((r) => r.name)).toEqual(['any', 'p']);
  });
});
