// @ambient-ts/telemetry — Istio standard metrics, access-log records and admin endpoint helpers for ambient proxies.
export {};
