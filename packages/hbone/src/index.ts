// @ambient-ts/hbone — HBONE tunnels: HTTP/2 CONNECT over mutual TLS, pooled clients, double HBONE, PROXY protocol v2.
export {};
