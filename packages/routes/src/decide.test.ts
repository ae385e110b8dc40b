import { describe, expect, it } from 'vitest';
import { pickBackend } from './backends.ts';
import { routeRequest, type BackendResolution, type RouteInput } from './decide.ts';
import { attachedRoutes, buildRouteTable, type RoutedRequest } from './match.ts';
import type { BackendRef, HttpRoute } from './model.ts';
import { parseHttpRoute } from './parse-http.ts';

const route = (spec: Record<string, unknown>): HttpRoute => {
  const parsed = parseHttpRoute(
    {
      metadata: { name: 'r', namespace: 'shop' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'cart' }], ...spec },
    },
    { name: 'r', namespace: 'shop' },
  );
  if (!parsed.route) throw new Error(JSON.stringify(parsed.problems));
  return parsed.route;
};

const get = (path: string, headers: Record<string, string> = {}): RoutedRequest => ({
  path,
  query: new URLSearchParams(),
  method: 'GET',
  header: (name) => headers[name],
});

const known = new Set(['cart', 'cart-v2']);
const resolve = (backend: BackendRef): BackendResolution<string> =>
  known.has(backend.name)
    ? { kind: 'service', service: backend.name, port: backend.port ?? 80 }
    : { kind: 'invalid', reason: `no Service ${backend.name}` };

const input = (routes: HttpRoute[], request: RoutedRequest, random = () => 0): RouteInput<string> => ({
  table: buildRouteTable(attachedRoutes(routes, { name: 'cart', namespace: 'shop' }, 80)),
  service: 'cart',
  servicePort: 80,
  request,
  host: 'cart.shop',
  rawQuery: '',
  resolve,
  random,
});

describe('pickBackend', () => {
  const refs = [
    { name: 'a', weight: 1 },
    { name: 'zero', weight: 0 },
    { name: 'b', weight: 3 },
  ].map((b) => ({ group: '', kind: 'Service', namespace: 'shop', filters: [], ...b }));

  it('splits by weight and never picks weight 0', () => {
    expect(pickBackend(refs, () => 0)?.name).toBe('a');
    expect(pickBackend(refs, () => 0.24)?.name).toBe('a');
    expect(pickBackend(refs, () => 0.25)?.name).toBe('b');
    expect(pickBackend(refs, () => 0.999)?.name).toBe('b');
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const name = pickBackend(refs, () => i / 400)!.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 300 });
  });

  it('has nothing to pick when every weight is 0', () => {
    expect(pickBackend([{ ...refs[1]! }], () => 0.5)).toBeUndefined();
  });
});

describe('routeRequest', () => {
  it('sends to the Service itself when no route is attached', () => {
    expect(routeRequest(input([], get('/')))).toMatchObject({ kind: 'forward', service: 'cart', routeName: 'default' });
  });

  it('answers 404 NR when routes are attached but none matches', () => {
    const routes = [route({ rules: [{ matches: [{ path: { type: 'Exact', value: '/only' } }] }] })];
    expect(routeRequest(input(routes, get('/other')))).toEqual({
      kind: 'reply',
      status: 404,
      body: '',
      flags: 'NR',
      details: 'route_not_found',
    });
  });

  it('forwards to the weighted backend with its header modifiers, rewrite and timeouts', () => {
    const routes = [
      route({
        rules: [
          {
            name: 'v2',
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Rule', value: '1' }] } },
              { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
            ],
            backendRefs: [
              { name: 'cart', weight: 1 },
              {
                name: 'cart-v2',
                port: 8080,
                weight: 1,
                filters: [
                  {
                    type: 'ResponseHeaderModifier',
                    responseHeaderModifier: { add: [{ name: 'x-backend', value: 'v2' }] },
                  },
                ],
              },
            ],
            timeouts: { request: '2s' },
          },
        ],
      }),
    ];
    expect(routeRequest(input(routes, get('/api/items'), () => 0.9))).toEqual({
      kind: 'forward',
      service: 'cart-v2',
      port: 8080,
      routeName: 'shop/r.v2',
      requestModifiers: [{ set: [{ name: 'x-rule', value: '1' }], add: [], remove: [] }],
      responseModifiers: [{ set: [], add: [{ name: 'x-backend', value: 'v2' }], remove: [] }],
      rewritePath: '/v2/items',
      requestTimeoutMs: 2000,
    });
  });

  it('answers 500 for a backend the caller cannot resolve, and for an unimplemented filter', () => {
    const missing = [route({ rules: [{ backendRefs: [{ name: 'gone' }] }] })];
    expect(routeRequest(input(missing, get('/')))).toMatchObject({
      kind: 'reply',
      status: 500,
      details: 'invalid_backend{no Service gone}',
      routeName: 'shop/r.0',
    });
    const cors = [route({ rules: [{ filters: [{ type: 'CORS' }], backendRefs: [{ name: 'cart' }] }] })];
    expect(routeRequest(input(cors, get('/')))).toMatchObject({ status: 500, details: 'filter_not_implemented{CORS}' });
  });

  it('answers a RequestRedirect itself with the Location', () => {
    const routes = [
      route({
        rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
      }),
    ];
    expect(routeRequest(input(routes, get('/x')))).toMatchObject({
      kind: 'reply',
      status: 301,
      headers: { location: 'https://cart.shop/x' },
      details: 'via_route_redirect',
    });
  });
});
