// Which HTTP version the waypoint speaks to an endpoint (l7-facts §1.6): a Service port declared HTTP/2
// or gRPC (istiod's app_protocol HTTP2/GRPC, from appProtocol `grpc`/`http2`/`h2c`/`kubernetes.io/h2c` or
// the port-name prefixes `grpc`/`http2`/`h2c`) gets HTTP/2; a plain `http` or undeclared port keeps the
// downstream's protocol (an h2c client stays HTTP/2, an HTTP/1.1 client stays HTTP/1.1), as Istio's
// waypoint does.
import type { AppProtocol } from '../state/app-protocols.ts';

export type UpstreamProtocol = 'http1' | 'h2';

export function upstreamProtocol(declared: AppProtocol, downstreamHttpVersion: string): UpstreamProtocol {
  if (declared === 'HTTP2' || declared === 'GRPC') return 'h2';
  return downstreamHttpVersion.startsWith('2') ? 'h2' : 'http1';
}
