// The CreateCertificate handler: authenticate the caller from its bearer token, read the CSR, decide
// with node authorization, sign, and answer with the chain and all roots. Every refusal is a gRPC
// status (UNAUTHENTICATED, INVALID_ARGUMENT, PERMISSION_DENIED) with a message saying what was refused
// and why, plus the stable code in the `x-ambient-ts-error` trailer. One bad request never affects others.
import { X509Certificate } from 'node:crypto';
import {
  Metadata,
  status,
  type handleUnaryCall,
  type sendUnaryData,
  type Server,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import type { CertificateAuthority } from './authority.ts';
import { authorize } from './authorize.ts';
import { parseCsr, PkiError } from '@ambient-ts/pki';
import { csrIdentity } from './csr-parse.ts';
import { CaError, type CaErrorCode } from './errors.ts';
import type { NodeWorkloadView } from './node-view.ts';
import {
  caServiceDefinition,
  errorCodeTrailer,
  impersonatedIdentityKey,
  type CaRequest,
  type CaResponse,
  type MalformedRequest,
} from './proto.ts';
import type { Caller, TokenVerifier } from './tokens.ts';

const day = 86_400;

export type CaEvent =
  | { kind: 'issued'; identity: string; caller: Caller; basis: 'own-identity' | 'workload-on-node'; notAfter: Date }
  | {
      kind: 'refused';
      code: CaErrorCode | 'INTERNAL';
      grpcStatus: status;
      message: string;
      caller?: Caller;
    };

export interface CaServiceOptions {
  authority: CertificateAuthority;
  tokenVerifier: TokenVerifier;
  /** Who runs where. Default: nothing anywhere, so callers can only obtain their own identity. */
  nodeView?: NodeWorkloadView;
  /** Lifetime when the request asks for none. Default 24 h. */
  defaultTtlSeconds?: number;
  /** Longer requests are capped to this. Default 90 days (istiod's maximum workload TTL). */
  maxTtlSeconds?: number;
  /** Observe every decision (logging, metrics). Must not throw. */
  onEvent?: (event: CaEvent) => void;
}

const emptyView: NodeWorkloadView = { isOnNode: () => false };

class Refusal extends Error {
  readonly grpcStatus: status;
  readonly code: CaErrorCode;
  constructor(grpcStatus: status, code: CaErrorCode, message: string) {
    super(message);
    this.grpcStatus = grpcStatus;
    this.code = code;
  }
}

const tokenCodes: readonly CaErrorCode[] = ['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_WRONG_CLUSTER'];

async function authenticate(verifier: TokenVerifier, metadata: Metadata): Promise<Caller> {
  const header = metadata.get('authorization')[0];
  const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  if (!token) {
    throw new Refusal(status.UNAUTHENTICATED, 'TOKEN_MISSING', 'no "authorization: Bearer <token>" header was sent');
  }
  const cluster = metadata.get('clusterid')[0];
  try {
    return await verifier.verify(token, { clusterId: typeof cluster === 'string' && cluster ? cluster : 'Kubernetes' });
  } catch (error) {
    const code = CaError.isCaError(error) && tokenCodes.includes(error.code) ? error.code : 'TOKEN_INVALID';
    throw new Refusal(status.UNAUTHENTICATED, code, `authentication failed: ${(error as Error).message}`);
  }
}

function readIdentity(request: CaRequest): { identity: string; impersonating: boolean; publicKeyDer: Buffer } {
  let identity: string;
  let publicKeyDer: Buffer;
  try {
    const csr = parseCsr(request.csr);
    identity = csrIdentity(csr);
    publicKeyDer = csr.publicKeyDer;
  } catch (error) {
    if (CaError.isCaError(error)) throw new Refusal(status.INVALID_ARGUMENT, error.code, error.message);
    if (!PkiError.isPkiError(error)) throw error;
    const code = error.code === 'INVALID_INPUT' ? 'CSR_MALFORMED' : error.code;
    throw new Refusal(status.INVALID_ARGUMENT, code, error.message);
  }
  const impersonated = request.metadata[impersonatedIdentityKey];
  if (impersonated === undefined) return { identity, impersonating: false, publicKeyDer };
  if (typeof impersonated !== 'string' || impersonated !== identity) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      'CSR_IDENTITY_MISMATCH',
      `metadata ${impersonatedIdentityKey} ${JSON.stringify(impersonated)} differs from the CSR's SAN ${identity}; they must name the same identity`,
    );
  }
  return { identity, impersonating: true, publicKeyDer };
}

function lifetime(requested: number, options: CaServiceOptions): number {
  const max = options.maxTtlSeconds ?? 90 * day;
  if (!Number.isFinite(requested) || requested <= 0) return Math.min(options.defaultTtlSeconds ?? day, max);
  return Math.min(Math.floor(requested), max);
}

/** The unary handler, for servers wired by hand; most callers use addCaService. */
export function createCaHandler(options: CaServiceOptions): handleUnaryCall<CaRequest | MalformedRequest, CaResponse> {
  const view = options.nodeView ?? emptyView;
  const emit = (event: CaEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // an observer's failure must not change the answer
    }
  };
  return (call: ServerUnaryCall<CaRequest | MalformedRequest, CaResponse>, callback: sendUnaryData<CaResponse>) => {
    let caller: Caller | undefined;
    const run = async (): Promise<CaResponse> => {
      caller = await authenticate(options.tokenVerifier, call.metadata);
      const request = call.request;
      if ('malformed' in request) {
        throw new Refusal(
          status.INVALID_ARGUMENT,
          'CSR_MALFORMED',
          `the request is not an IstioCertificateRequest: ${request.malformed}`,
        );
      }
      const { identity, impersonating, publicKeyDer } = readIdentity(request);
      const decision = authorize({
        caller,
        requested: identity,
        impersonating,
        trustDomain: options.authority.trustDomain,
        view,
      });
      if (!decision.allowed) throw new Refusal(status.PERMISSION_DENIED, decision.code, decision.message);
      let certChain: string[];
      try {
        certChain = options.authority.signWorkload(identity, publicKeyDer, lifetime(request.validityDuration, options));
      } catch (error) {
        // e.g. CA_EXPIRED: say so, the caller's operator needs to know the CA itself is broken.
        if (!CaError.isCaError(error)) throw error;
        throw new Refusal(status.INTERNAL, error.code, error.message);
      }
      const notAfter = new X509Certificate(certChain[0]!).validToDate;
      emit({ kind: 'issued', identity, caller, basis: decision.basis, notAfter });
      return { certChain };
    };
    run().then(
      (response) => callback(null, response),
      (error: unknown) => {
        const refusal =
          error instanceof Refusal
            ? error
            : new Refusal(status.INTERNAL, 'CA_CALL_FAILED', 'the CA failed to sign the request; see the CA logs');
        const trailer = new Metadata();
        trailer.set(errorCodeTrailer, refusal.code);
        emit({
          kind: 'refused',
          code: error instanceof Refusal ? refusal.code : 'INTERNAL',
          grpcStatus: refusal.grpcStatus,
          message: error instanceof Refusal ? refusal.message : String(error),
          ...(caller ? { caller } : {}),
        });
        callback({ code: refusal.grpcStatus, details: refusal.message, metadata: trailer });
      },
    );
  };
}

/**
 * Register istio.v1.auth.IstioCertificateService on a server you own (e.g. next to xDS on one port,
 * as istiod serves 15010 plaintext and 15012 TLS).
 */
export function addCaService(server: Server, options: CaServiceOptions): void {
  server.addService(caServiceDefinition, { CreateCertificate: createCaHandler(options) });
}
