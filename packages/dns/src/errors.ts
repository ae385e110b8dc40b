// Typed errors of the DNS proxy (codes in docs/errors.md).

export type DnsErrorCode =
  /** no upstream answered within the timeout, over every attempt */
  | 'DNS_UPSTREAM_TIMEOUT'
  /** an upstream could not be reached or its answer was unusable (socket error, closed TCP, garbage) */
  | 'DNS_UPSTREAM_FAILED'
  /** the resolv.conf has no usable nameserver */
  | 'DNS_NO_UPSTREAM'
  /** too many forwarded queries in flight: answered SERVFAIL at once instead of queueing */
  | 'DNS_OVERLOADED';

export class DnsError extends Error {
  readonly code: DnsErrorCode;
  constructor(code: DnsErrorCode, message: string) {
    super(message);
    this.name = 'DnsError';
    this.code = code;
  }
}
