// What every CA client hands back, and the one interface the certificate manager depends on.

/** A workload's credentials, as the HBONE layer presents and trusts them. */
export interface WorkloadCertificate {
  /** The SPIFFE ID the leaf certifies, e.g. `spiffe://cluster.local/ns/default/sa/web`. */
  identity: string;
  /** Leaf first, then intermediates, PEM. Present this with `privateKeyPem`. */
  certChainPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** Every trust anchor from the CA answer, concatenated PEM. Peers are verified against these. */
  rootCertsPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface FetchOptions {
  /** Abandon the request (the manager aborts when an identity is forgotten). */
  signal?: AbortSignal;
}

/** Anything that turns an identity into a fresh certificate: Istio's CA, an in-process CA, a test double. */
export interface CaClient {
  /** Generate a key and CSR for `identity` and have it signed. Rejects with a `CertsError`. */
  fetchCertificate(identity: string, options?: FetchOptions): Promise<WorkloadCertificate>;
  /** Release connections, if any. */
  close?(): void;
}
