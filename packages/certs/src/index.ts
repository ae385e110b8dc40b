// @ambient-ts/certs — Keys and CSRs, the Istio CA client, a certificate manager with rotation, and a CA server that enforces node authorization.
export {};
