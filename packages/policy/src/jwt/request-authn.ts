// Kubernetes-shaped `security.istio.io/v1` RequestAuthentication → the JWT rule model.
// A jwtRule that cannot be used keeps its issuer and is marked unusable, so tokens from that issuer are
// rejected with 401 (fail closed) instead of being treated as unknown or, worse, accepted.
import { readMetadata, readTargetAttachment } from '../kube-meta.ts';
import { throwOnErrors, type LoadOptions, type Loaded } from '../kube-policy.ts';
import { policyKey, type Attachment, type PolicyProblem } from '../model.ts';
import { describe, isRecord, type Path, type Problems } from '../problems.ts';

export interface JwtHeaderLocation {
  /** Lower-cased header name. */
  readonly name: string;
  /** Must match exactly (e.g. "Bearer "); empty = the whole value is the token. */
  readonly prefix: string;
}

export interface JwtRule {
  /** Token `iss` must equal it; empty = any issuer (only when jwksUri is set). */
  readonly issuer: string;
  /** Token `aud` must contain one of them; empty = no audience check. */
  readonly audiences: readonly string[];
  readonly jwksUri?: string;
  /** Inline JWKS (parsed). */
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly fromHeaders: readonly JwtHeaderLocation[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  readonly outputPayloadToHeader?: string;
  readonly outputClaimToHeaders: readonly { readonly header: string; readonly claim: string }[];
  readonly forwardOriginalToken: boolean;
  /** JWKS fetch timeout; default 5 s. */
  readonly timeoutMs: number;
  /** Claims split on spaces for authorization (always also `scope` and `permission`). */
  readonly spaceDelimitedClaims: readonly string[];
  /** Set when the rule cannot verify anything: its tokens are rejected (401). */
  readonly unusable?: string;
}

export interface RequestAuthenticationPolicy {
  readonly kind: 'RequestAuthentication';
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly attachment: Attachment;
  readonly jwtRules: readonly JwtRule[];
  readonly problems: readonly PolicyProblem[];
}

const ruleKeys = new Set([
  'issuer',
  'audiences',
  'jwksUri',
  'jwks',
  'fromHeaders',
  'fromParams',
  'fromCookies',
  'outputPayloadToHeader',
  'outputClaimToHeaders',
  'forwardOriginalToken',
  'timeout',
  'spaceDelimitedClaims',
]);
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Protobuf Duration JSON ("5s", "1.5s", "0.100s") or a Go-style "100ms". */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

function strings(raw: unknown, path: Path, bad: (why: string, at: Path) => void): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    bad(`expected a list of strings, found ${describe(raw)}`, path);
    return [];
  }
  const out: string[] = [];
  raw.forEach((value: unknown, index) => {
    if (typeof value !== 'string' || value === '')
      bad(`expected a non-empty string, found ${describe(value)}`, [...path, index]);
    else out.push(value);
  });
  return out;
}

function readRule(raw: unknown, path: Path, problems: Problems): JwtRule | undefined {
  let unusable: string | undefined;
  const bad = (message: string, at: Path) => {
    problems.error(at, message, 'tokens from this issuer are rejected with 401 (fails closed)');
    unusable ??= message;
  };
  if (!isRecord(raw)) {
    problems.error(path, `a jwtRule must be an object, found ${describe(raw)}`, 'ignored');
    return undefined;
  }
  for (const key of Object.keys(raw))
    if (!ruleKeys.has(key)) bad(`unknown field ${JSON.stringify(key)}`, [...path, key]);
  const issuer = typeof raw['issuer'] === 'string' ? raw['issuer'] : '';
  if (raw['issuer'] !== undefined && typeof raw['issuer'] !== 'string')
    bad('`issuer` must be a string', [...path, 'issuer']);
  const jwksUri = typeof raw['jwksUri'] === 'string' && raw['jwksUri'] !== '' ? raw['jwksUri'] : undefined;
  if (issuer === '' && !jwksUri) {
    problems.error(
      [...path, 'issuer'],
      'issuer or jwksUri must be a non-empty string',
      'ignored: no token can be matched to this rule',
    );
    return undefined;
  }
  if (jwksUri) {
    let scheme: string;
    try {
      scheme = new URL(jwksUri).protocol;
    } catch {
      scheme = 'invalid';
    }
    if (scheme !== 'http:' && scheme !== 'https:')
      bad(`jwksUri ${JSON.stringify(jwksUri)} is not an http(s) URL`, [...path, 'jwksUri']);
    if (jwksUri.length > 2048) bad('jwksUri is longer than 2048 characters', [...path, 'jwksUri']);
  }
  let jwks: JwtRule['jwks'];
  if (raw['jwks'] !== undefined && raw['jwks'] !== '') {
    try {
      const parsed: unknown = typeof raw['jwks'] === 'string' ? JSON.parse(raw['jwks']) : raw['jwks'];
      if (!isRecord(parsed) || !Array.isArray(parsed['keys'])) throw new Error('expected {"keys": [...]}');
      jwks = { keys: parsed['keys'] as Record<string, unknown>[] };
    } catch (error) {
      bad(`jwks parse error: ${(error as Error).message}`, [...path, 'jwks']);
    }
  }
  const fromHeaders: JwtHeaderLocation[] = [];
  const rawHeaders = raw['fromHeaders'];
  if (rawHeaders !== undefined && !Array.isArray(rawHeaders))
    bad('`fromHeaders` must be a list', [...path, 'fromHeaders']);
  if (Array.isArray(rawHeaders)) {
    rawHeaders.forEach((location: unknown, index) => {
      const at = [...path, 'fromHeaders', index];
      if (!isRecord(location) || typeof location['name'] !== 'string' || location['name'] === '') {
        return bad('location header name must be a non-empty string', at);
      }
      const prefix = location['prefix'] ?? '';
      if (typeof prefix !== 'string') return bad('`prefix` must be a string', [...at, 'prefix']);
      fromHeaders.push({ name: location['name'].toLowerCase(), prefix });
    });
  }
  const outputClaimToHeaders: { header: string; claim: string }[] = [];
  const rawOutputs = raw['outputClaimToHeaders'];
  if (Array.isArray(rawOutputs)) {
    rawOutputs.forEach((output: unknown, index) => {
      const at = [...path, 'outputClaimToHeaders', index];
      if (
        !isRecord(output) ||
        typeof output['header'] !== 'string' ||
        typeof output['claim'] !== 'string' ||
        !output['header'] ||
        !output['claim']
      ) {
        return bad('outputClaimToHeaders header and claim must be non-empty strings', at);
      }
      if (!headerName.test(output['header']))
        return bad(`invalid header name ${JSON.stringify(output['header'])}`, [...at, 'header']);
      outputClaimToHeaders.push({ header: output['header'].toLowerCase(), claim: output['claim'] });
    });
  } else if (rawOutputs !== undefined) bad('`outputClaimToHeaders` must be a list', [...path, 'outputClaimToHeaders']);
  let outputPayloadToHeader: string | undefined;
  if (raw['outputPayloadToHeader'] !== undefined && raw['outputPayloadToHeader'] !== '') {
    const value = raw['outputPayloadToHeader'];
    if (typeof value !== 'string' || !headerName.test(value))
      bad('invalid outputPayloadToHeader header name', [...path, 'outputPayloadToHeader']);
    else outputPayloadToHeader = value.toLowerCase();
  }
  let timeoutMs = 5000;
  if (raw['timeout'] !== undefined) {
    const parsed = typeof raw['timeout'] === 'string' ? parseDuration(raw['timeout']) : undefined;
    if (parsed === undefined || parsed <= 0) bad(`invalid timeout ${describe(raw['timeout'])}`, [...path, 'timeout']);
    else timeoutMs = parsed;
  }
  const forward = raw['forwardOriginalToken'];
  if (forward !== undefined && typeof forward !== 'boolean')
    bad('`forwardOriginalToken` must be a boolean', [...path, 'forwardOriginalToken']);
  const audiences = strings(raw['audiences'], [...path, 'audiences'], bad);
  if (!jwks && !jwksUri) problems.warn(path, 'no jwks or jwksUri: keys come from OIDC discovery of the issuer');
  return {
    issuer,
    audiences,
    ...(jwksUri && { jwksUri }),
    ...(jwks && { jwks }),
    fromHeaders,
    fromParams: strings(raw['fromParams'], [...path, 'fromParams'], bad),
    fromCookies: strings(raw['fromCookies'], [...path, 'fromCookies'], bad),
    ...(outputPayloadToHeader && { outputPayloadToHeader }),
    outputClaimToHeaders,
    forwardOriginalToken: forward === true,
    timeoutMs,
    spaceDelimitedClaims: strings(raw['spaceDelimitedClaims'], [...path, 'spaceDelimitedClaims'], bad),
    ...(unusable && { unusable }),
  };
}

/** Load a RequestAuthentication object. Never throws; problems name the policy and field. */
export function loadRequestAuthentication(
  input: unknown,
  options: LoadOptions = {},
): Loaded<RequestAuthenticationPolicy> {
  const meta = readMetadata(input, 'RequestAuthentication', options.defaultNamespace ?? 'default');
  const { problems, name, namespace } = meta;
  const raw = isRecord(input) ? input : {};
  const spec = isRecord(raw['spec']) ? raw['spec'] : {};
  for (const fatal of meta.fatal)
    problems.error(fatal.path, fatal.message, 'policy ignored: its issuers are unknown, so their tokens get 401');
  for (const key of Object.keys(spec)) {
    if (!['selector', 'targetRef', 'targetRefs', 'jwtRules'].includes(key))
      problems.error(['spec', key], `unknown field ${JSON.stringify(key)}`, 'ignored');
  }
  const target = readTargetAttachment(spec, namespace, problems);
  for (const fatal of target.fatal) problems.error(fatal.path, fatal.message, 'attachment as far as it could be read');
  const jwtRules: JwtRule[] = [];
  const rawRules = spec['jwtRules'];
  if (meta.fatal.length === 0 && Array.isArray(rawRules)) {
    rawRules.forEach((rule: unknown, index) => {
      const read = readRule(rule, ['spec', 'jwtRules', index], problems);
      if (read) jwtRules.push(read);
    });
  } else if (rawRules !== undefined && !Array.isArray(rawRules)) {
    problems.error(
      ['spec', 'jwtRules'],
      `\`jwtRules\` must be a list, found ${describe(rawRules)}`,
      'no rules loaded: tokens get 401',
    );
  }
  const policy: RequestAuthenticationPolicy = {
    kind: 'RequestAuthentication',
    key: policyKey(namespace, name),
    name,
    namespace,
    attachment: target.attachment,
    jwtRules,
    problems: problems.list,
  };
  return { policy, problems: problems.list };
}

/** Strict: throws `INVALID_POLICY` naming the policy and field of the first error. */
export function parseRequestAuthentication(input: unknown, options: LoadOptions = {}): RequestAuthenticationPolicy {
  const { policy, problems } = loadRequestAuthentication(input, options);
  throwOnErrors(problems, 'RequestAuthentication');
  return policy;
}
