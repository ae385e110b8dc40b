// Caller authentication for the CA. The CA asks a TokenVerifier who is calling; for one machine the
// local control plane mints each node proxy a signed token binding it to its node (NodeTokenIssuer),
// and NodeTokenVerifier checks those. A Kubernetes TokenReview verifier plugs in the same way (README).
import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { CaError } from './errors.ts';
import { loadPrivateKey, workloadIdentity } from './keys.ts';

/** Who is calling, as established from its token. */
export interface Caller {
  /** The caller's own SPIFFE identity (it may always obtain a certificate for it). */
  identity: string;
  /** The node the caller runs on; required to impersonate workloads on that node. */
  node?: string;
  /** Whether the caller is a node proxy allowed to ask for its node's workload identities. */
  mayImpersonate: boolean;
}

export interface TokenContext {
  /** The request's `clusterid` header (default `Kubernetes`). */
  clusterId: string;
}

/** Establishes a caller from a bearer token; rejects with CaError `TOKEN_*` codes. */
export interface TokenVerifier {
  verify(token: string, context: TokenContext): Promise<Caller>;
}

export interface NodeTokenOptions {
  /** `iss` claim. Default `ambient-ts-controlplane`. */
  issuer?: string;
  /** `aud` claim. Default `istio-ca`, as for Istio's projected tokens. */
  audience?: string;
  /** Clock for `iat`/`exp` and expiry checks (e.g. a fake clock in tests). */
  clock?: { now(): number };
}

export interface NodeTokenClaims {
  node: string;
  /** The node proxy's own SPIFFE identity, e.g. `spiffe://cluster.local/ns/istio-system/sa/ztunnel`. */
  identity: string;
  /** Default true: node tokens are for node proxies. False for a dedicated-mode workload token. */
  mayImpersonate?: boolean;
  /** Cluster the token is for. Default `Kubernetes`. */
  clusterId?: string;
  /** Default 24 h. Re-issue before expiry; clients re-read token files on every request. */
  ttlSeconds?: number;
}

const defaults = { issuer: 'ambient-ts-controlplane', audience: 'istio-ca' };
const algorithm = 'ES256';

/** Mints node tokens (ES256 JWTs). The control plane writes one per node. */
export class NodeTokenIssuer {
  readonly #key: KeyObject;
  readonly #options: NodeTokenOptions;

  constructor(privateKey: KeyObject | string, options: NodeTokenOptions = {}) {
    this.#key = typeof privateKey === 'string' ? loadPrivateKey(privateKey, 'NodeTokenIssuer private key') : privateKey;
    if (this.#key.asymmetricKeyType !== 'ec' || this.#key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new CaError('INVALID_OPTIONS', 'NodeTokenIssuer needs an EC P-256 private key (tokens are ES256)');
    }
    this.#options = options;
  }

  /** An issuer with a fresh signing key. */
  static async create(options: NodeTokenOptions = {}): Promise<NodeTokenIssuer> {
    const { privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' });
    return new NodeTokenIssuer(privateKey, options);
  }

  get publicKey(): KeyObject {
    return createPublicKey(this.#key);
  }

  async issue(claims: NodeTokenClaims): Promise<string> {
    if (!claims.node) throw new CaError('INVALID_OPTIONS', 'a node token needs a node name');
    workloadIdentity(claims.identity);
    const now = Math.floor((this.#options.clock?.now() ?? Date.now()) / 1000);
    return new SignJWT({
      node: claims.node,
      cluster: claims.clusterId ?? 'Kubernetes',
      impersonate: claims.mayImpersonate ?? true,
    })
      .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
      .setIssuer(this.#options.issuer ?? defaults.issuer)
      .setAudience(this.#options.audience ?? defaults.audience)
      .setSubject(claims.identity)
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.ttlSeconds ?? 86_400))
      .sign(this.#key);
  }

  /** A verifier for this issuer's tokens. */
  verifier(options: { clockToleranceSeconds?: number } = {}): NodeTokenVerifier {
    return new NodeTokenVerifier({ ...this.#options, ...options, publicKey: this.publicKey });
  }
}

export interface NodeTokenVerifierOptions extends NodeTokenOptions {
  publicKey: KeyObject | string;
  /** Allowed clock skew. Default 60 s. */
  clockToleranceSeconds?: number;
}

/** Verifies node tokens: signature, issuer, audience, expiry, cluster, and well-formed claims. */
export class NodeTokenVerifier implements TokenVerifier {
  readonly #key: KeyObject;
  readonly #options: NodeTokenVerifierOptions;

  constructor(options: NodeTokenVerifierOptions) {
    this.#key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
    this.#options = options;
  }

  async verify(token: string, context: TokenContext): Promise<Caller> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: [algorithm],
        issuer: this.#options.issuer ?? defaults.issuer,
        audience: this.#options.audience ?? defaults.audience,
        clockTolerance: this.#options.clockToleranceSeconds ?? 60,
        currentDate: new Date(this.#options.clock?.now() ?? Date.now()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new CaError('TOKEN_EXPIRED', 'the bearer token has expired; the control plane must issue a new one', {
          cause: error,
        });
      }
      const why = error instanceof joseErrors.JOSEError ? error.code : 'unreadable';
      throw new CaError('TOKEN_INVALID', `the bearer token was rejected (${why}): ${(error as Error).message}`, {
        cause: error,
      });
    }
    const { sub, node, cluster, impersonate } = payload;
    if (typeof sub !== 'string' || typeof node !== 'string' || node === '' || typeof cluster !== 'string') {
      throw new CaError('TOKEN_INVALID', 'the bearer token lacks the sub, node or cluster claim of a node token');
    }
    if (cluster !== context.clusterId) {
      throw new CaError(
        'TOKEN_WRONG_CLUSTER',
        `the bearer token is for cluster "${cluster}" but the request's clusterid header says "${context.clusterId}"`,
      );
    }
    try {
      workloadIdentity(sub);
    } catch (error) {
      throw new CaError('TOKEN_INVALID', `the bearer token's subject is not a SPIFFE ID: ${sub}`, { cause: error });
    }
    return { identity: sub, node, mayImpersonate: impersonate === true };
  }
}
