// The waypoint's JWT step (Envoy jwt_authn as Istio configures it: for each rule "provider OR
// allow_missing"): no token passes without a principal; every token present must verify against a rule
// for its issuer, or the request gets 401 before authorization.
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { RequestAuth } from '../attributes.ts';
import type { JsonWebKeySet, JwksCache } from './jwks.ts';
import type { JwtRule, RequestAuthenticationPolicy } from './request-authn.ts';
import { findTokens, RequestView, type FoundToken, type TokenRequest } from './tokens.ts';

export interface AuthenticateOptions {
  /** Fetches and caches `jwksUri` key sets; required when any rule uses jwksUri or OIDC discovery. */
  readonly jwks?: JwksCache;
  /** Clock for `exp`/`nbf`; default Date.now. */
  readonly now?: () => number;
  /** Allowed clock skew in seconds; default 60 (Envoy's default). */
  readonly clockSkewSeconds?: number;
}

export type AuthnResult =
  /** No token anywhere: the request continues without a request principal (authorization decides). */
  | { readonly kind: 'anonymous'; readonly auth?: undefined }
  | {
      readonly kind: 'authenticated';
      /** For `evaluateL7({ ..., auth })`. Principal and claims are unset when several distinct tokens were sent. */
      readonly auth: RequestAuth;
      readonly issuer: string;
      readonly subject?: string;
      /** Headers to set before forwarding (outputPayloadToHeader, outputClaimToHeaders), lower-case names. */
      readonly headersToSet: Readonly<Record<string, string>>;
      /** Token headers to remove before forwarding (forwardOriginalToken: false). */
      readonly headersToRemove: readonly string[];
    }
  /** A token is present but unusable: respond 401 with this reason (Envoy's wording). */
  | {
      readonly kind: 'rejected';
      readonly status: 401;
      readonly reason: string;
      readonly issuer?: string;
      readonly auth?: undefined;
    };

const algorithms = [
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
];
const localSets = new WeakMap<object, ReturnType<typeof createLocalJWKSet>>();

function localSet(keys: JsonWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let set = localSets.get(keys);
  if (!set) {
    set = createLocalJWKSet(keys as Parameters<typeof createLocalJWKSet>[0]);
    localSets.set(keys, set);
  }
  return set;
}

class Reject extends Error {}

function reasonFor(error: unknown): string {
  if (error instanceof Reject) return error.message;
  if (error instanceof errors.JWTExpired) return 'Jwt is expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'Jwt not yet valid';
    if (error.claim === 'aud') return 'Audiences in Jwt are not allowed';
    if (error.claim === 'iss') return 'Jwt issuer is not configured';
    return `Jwt verification fails: ${error.message}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) return "Jwks doesn't have key to match kid or alg from Jwt";
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'Jwt verification fails';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'Jwt verification fails: algorithm not allowed';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
    return 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections';
  }
  if (error instanceof Error && (error as { code?: string }).code === 'JWKS_FETCH_FAILED')
    return 'Jwks remote fetch is failed';
  return `Jwt verification fails: ${error instanceof Error ? error.message : String(error)}`;
}

async function keysFor(rule: JwtRule, options: AuthenticateOptions): Promise<{ keys: JsonWebKeySet; uri?: string }> {
  if (rule.jwks) return { keys: rule.jwks };
  if (!options.jwks) throw new Reject('Jwks remote fetch is failed: no JWKS cache configured');
  const uri = rule.jwksUri ?? (await options.jwks.discover(rule.issuer, rule.timeoutMs));
  return { keys: await options.jwks.get(uri, rule.timeoutMs), uri };
}

async function verifyWith(rule: JwtRule, token: string, options: AuthenticateOptions): Promise<JWTPayload> {
  if (rule.unusable) throw new Reject(`Jwt verification fails: the rule for this issuer is invalid (${rule.unusable})`);
  const verifyOptions = {
    ...(rule.issuer && { issuer: rule.issuer }),
    ...(rule.audiences.length > 0 && { audience: [...rule.audiences] }),
    algorithms,
    currentDate: new Date((options.now ?? Date.now)()),
    clockTolerance: options.clockSkewSeconds ?? 60,
  };
  const { keys, uri } = await keysFor(rule, options);
  try {
    return (await jwtVerify(token, localSet(keys), verifyOptions)).payload;
  } catch (error) {
    // Unknown kid: the issuer may have rotated keys; refetch once (rate-limited) and retry.
    if (!(error instanceof errors.JWKSNoMatchingKey) || !uri || !options.jwks) throw error;
    const fresh = await options.jwks.refreshForUnknownKid(uri, rule.timeoutMs);
    if (!fresh) throw error;
    return (await jwtVerify(token, localSet(fresh), verifyOptions)).payload;
  }
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let current: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function authFrom(payload: JWTPayload, rule: JwtRule): RequestAuth {
  const claims: Record<string, unknown> = { ...payload };
  for (const name of new Set(['scope', 'permission', ...rule.spaceDelimitedClaims])) {
    const value = claims[name];
    if (typeof value === 'string') claims[name] = value.split(' ').filter(Boolean);
  }
  const aud = payload.aud;
  return {
    ...(typeof payload.iss === 'string' &&
      typeof payload.sub === 'string' && { principal: `${payload.iss}/${payload.sub}` }),
    audiences: typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [],
    ...(typeof payload['azp'] === 'string' && { presenter: payload['azp'] }),
    claims,
  };
}

function isCorsPreflight(request: TokenRequest, view: RequestView): boolean {
  return (
    request.method?.toUpperCase() === 'OPTIONS' &&
    view.header('origin') !== undefined &&
    view.header('access-control-request-method') !== undefined
  );
}

/** Authenticate a request against the RequestAuthentication policies that apply to it. Never throws. */
export async function authenticateRequest(
  policies: readonly RequestAuthenticationPolicy[],
  request: TokenRequest,
  options: AuthenticateOptions = {},
): Promise<AuthnResult> {
  try {
    const view = new RequestView(request);
    if (isCorsPreflight(request, view)) return { kind: 'anonymous' };
    // Each distinct token, with the rules that look for it where it was found.
    const tokens = new Map<string, { found: FoundToken; rules: JwtRule[] }>();
    for (const policy of policies) {
      for (const rule of policy.jwtRules) {
        for (const found of findTokens(rule, view)) {
          const entry = tokens.get(found.token) ?? { found, rules: [] };
          entry.rules.push(rule);
          tokens.set(found.token, entry);
        }
      }
    }
    if (tokens.size === 0) return { kind: 'anonymous' };

    const verified: { payload: JWTPayload; rule: JwtRule; found: FoundToken }[] = [];
    for (const [token, { found, rules }] of tokens) {
      let issuer: string | undefined;
      try {
        const iss = decodeJwt(token).iss;
        issuer = typeof iss === 'string' ? iss : undefined;
      } catch (error) {
        return { kind: 'rejected', status: 401, reason: reasonFor(error) };
      }
      const candidates = rules.filter((rule) => rule.issuer === '' || rule.issuer === issuer);
      if (candidates.length === 0)
        return { kind: 'rejected', status: 401, reason: 'Jwt issuer is not configured', ...(issuer && { issuer }) };
      let failure: unknown;
      let payload: JWTPayload | undefined;
      let used: JwtRule | undefined;
      for (const rule of candidates) {
        try {
          payload = await verifyWith(rule, token, options);
          used = rule;
          break;
        } catch (error) {
          failure ??= error;
        }
      }
      if (!payload || !used)
        return { kind: 'rejected', status: 401, reason: reasonFor(failure), ...(issuer && { issuer }) };
      verified.push({ payload, rule: used, found });
    }

    const headersToSet: Record<string, string> = {};
    const headersToRemove = new Set<string>();
    for (const { payload, rule, found } of verified) {
      // The payload segment is exactly base64url(payload JSON), as Envoy forwards it.
      if (rule.outputPayloadToHeader) headersToSet[rule.outputPayloadToHeader] = found.token.split('.')[1] ?? '';
      for (const { header, claim } of rule.outputClaimToHeaders) {
        const value = claimAt(payload, claim);
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
          headersToSet[header] = String(value);
      }
      if (!rule.forwardOriginalToken && found.header) headersToRemove.add(found.header);
    }
    const first = verified[0]!;
    // Several distinct tokens: all were verified, but Istio leaves the request principal undefined.
    const auth: RequestAuth = verified.length === 1 ? authFrom(first.payload, first.rule) : {};
    return {
      kind: 'authenticated',
      auth,
      issuer: String(first.payload.iss ?? ''),
      ...(verified.length === 1 && typeof first.payload.sub === 'string' && { subject: first.payload.sub }),
      headersToSet,
      headersToRemove: [...headersToRemove],
    };
  } catch (error) {
    return { kind: 'rejected', status: 401, reason: reasonFor(error) };
  }
}
