// What each AuthorizationPolicy field and `when` key means: model attribute, whether ztunnel can check it
// (istiod's L4 form), whether it is HTTP-only, and how its values compile.
import type { ConditionAttribute } from './model.ts';
import * as values from './kube-values.ts';
import type { Compiled } from './kube-values.ts';

export interface FieldSpec {
  readonly attribute: ConditionAttribute;
  readonly l4: boolean;
  readonly httpOnly: boolean;
  readonly compile: (value: string, namespace: string) => Compiled<unknown>;
  readonly extra?: Record<string, unknown>;
  readonly numbers?: boolean;
}

const spec = (
  attribute: ConditionAttribute,
  l4: boolean,
  httpOnly: boolean,
  compile: FieldSpec['compile'],
  extra?: Partial<FieldSpec>,
): FieldSpec => ({ attribute, l4, httpOnly, compile, ...extra });

export const sourceFields: Record<string, FieldSpec> = {
  principals: spec('source.principal', true, false, values.compilePrincipal),
  requestPrincipals: spec('request.auth.principal', false, true, values.compileRequestPrincipal),
  namespaces: spec('source.namespace', true, false, values.compileString),
  serviceAccounts: spec('source.serviceAccount', true, false, values.compileServiceAccount),
  trustDomains: spec('source.trustDomain', false, false, values.compileString),
  ipBlocks: spec('source.ip', true, false, values.compileCidr),
  remoteIpBlocks: spec('remote.ip', false, false, values.compileCidr),
};

export const operationFields: Record<string, FieldSpec> = {
  hosts: spec('request.host', false, true, values.compileHost),
  ports: spec('destination.port', true, false, values.compilePort, { numbers: true }),
  methods: spec('request.method', false, true, values.compileMethod),
  paths: spec('request.path', false, true, values.compilePath),
};

/** `when` keys (istio/istio pkg/config/security ValidateAttribute + the authz model generators). */
export function whenSpec(key: string): FieldSpec | string {
  switch (key) {
    case 'source.ip':
      return spec('source.ip', true, false, values.compileCidr);
    case 'remote.ip':
      return spec('remote.ip', false, false, values.compileCidr);
    case 'source.namespace':
      return spec('source.namespace', true, false, values.compileString);
    case 'source.principal':
      return spec('source.principal', true, false, values.compilePrincipal);
    case 'source.serviceAccount':
      return spec('source.serviceAccount', false, false, values.compileServiceAccount);
    case 'source.trustDomain':
      return spec('source.trustDomain', false, false, values.compileString);
    case 'request.auth.principal':
      return spec('request.auth.principal', false, true, values.compileRequestPrincipal);
    case 'request.auth.audiences':
      return spec('request.auth.audiences', false, true, values.compileString);
    case 'request.auth.presenter':
      return spec('request.auth.presenter', false, true, values.compileString);
    case 'destination.ip':
      return spec('destination.ip', true, false, values.compileCidr);
    case 'destination.port':
      return spec('destination.port', true, false, values.compilePort, { numbers: true });
    case 'connection.sni':
      return spec('connection.sni', false, false, values.compileString);
    case 'destination.namespace':
      return `attribute ${key} is replaced by the metadata.namespace`;
    case 'destination.name':
    case 'destination.user':
      return `deprecated attribute ${key}: only supported in v1alpha1`;
  }
  if (key.startsWith('request.headers')) {
    const names = values.parseBracketNames(key.slice('request.headers'.length));
    if (!names || names.length !== 1)
      return `bad key ${JSON.stringify(key)}: should have format request.headers[<name>]`;
    return spec('request.headers', false, true, values.compileString, { extra: { header: names[0]!.toLowerCase() } });
  }
  if (key.startsWith('request.auth.claims')) {
    const names = values.parseBracketNames(key.slice('request.auth.claims'.length));
    if (!names)
      return `bad key ${JSON.stringify(key)}: should have format request.auth.claims[<claim>] (nested: [a][b])`;
    return spec('request.auth.claims', false, true, values.compileString, { extra: { claim: names } });
  }
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key.startsWith('experimental.envoy.filters.') || key.startsWith('request.experimental.inline.headers')) {
    return `unsupported key ${JSON.stringify(key)}: raw Envoy metadata is not available outside Envoy`;
  }
  return `unknown attribute ${JSON.stringify(key)}`;
}
