// @ambient-ts/discovery — Istio workload discovery: protobuf codecs, delta xDS client and server, static config, indexed store, routing decisions.
export {};
