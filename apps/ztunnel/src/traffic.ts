// One place that turns a proxied connection into Istio's TCP metrics and ztunnel's access-log lines.
// Byte counters: metrics follow Istio's convention (received = request direction for both reporters);
// access logs are from the reporting side's application perspective (ztunnel-facts §7).
import type { Service, Workload } from '@ambient-ts/discovery';
import { closeReport, workloadTrafficLabels, type ConnectionEnd } from '@ambient-ts/proxy-core';
import {
  formatDuration,
  type AccessLog,
  type AccessLogFields,
  type ProxyMetrics,
  type ResponseFlags,
  type TrafficLabels,
} from '@ambient-ts/telemetry';

export interface ConnectionContext {
  direction: 'inbound' | 'outbound';
  /** Client address `ip:port`. */
  sourceAddress: string;
  source?: Workload | undefined;
  /** The source's SPIFFE ID, only when the connection is mutual TLS. */
  sourceIdentity?: string | undefined;
  /** The actual L4 next hop (`podIP:15008`, waypoint, or the app for plain TCP). */
  destinationAddress: string;
  /** CONNECT authority, when tunneled. */
  hboneAddress?: string | undefined;
  destination?: Workload | undefined;
  destinationIdentity?: string | undefined;
  service?: Service | undefined;
  mutualTls: boolean;
}

/** The counter children of one label set; prom-client hashes 27 labels per call otherwise. */
interface LabelledCounters {
  opened: { inc(value?: number): void };
  closed: { inc(value?: number): void };
  received: { inc(value?: number): void };
  sent: { inc(value?: number): void };
  failed: { inc(value?: number): void };
}

export class TrafficReporter {
  readonly #metrics: ProxyMetrics;
  readonly #accessLog: AccessLog;
  readonly #children = new Map<string, LabelledCounters>();

  constructor(metrics: ProxyMetrics, accessLog: AccessLog) {
    this.#metrics = metrics;
    this.#accessLog = accessLog;
  }

  #fields(context: ConnectionContext): AccessLogFields {
    return {
      'src.addr': context.sourceAddress,
      'src.workload': context.source ? context.source.name || context.source.canonicalName : undefined,
      'src.namespace': context.source?.namespace,
      'src.identity': context.mutualTls ? context.sourceIdentity : undefined,
      'src.cluster': context.source?.clusterId,
      'dst.addr': context.destinationAddress,
      'dst.hbone_addr': context.hboneAddress,
      'dst.service': context.service?.hostname,
      'dst.workload': context.destination ? context.destination.name || context.destination.canonicalName : undefined,
      'dst.namespace': context.destination?.namespace,
      'dst.identity': context.mutualTls ? context.destinationIdentity : undefined,
      'dst.cluster': context.destination?.clusterId,
      direction: context.direction,
    } as AccessLogFields;
  }

  #counters(
    context: ConnectionContext,
    flags: ResponseFlags | undefined,
    build: () => TrafficLabels,
  ): LabelledCounters {
    const key = [
      context.direction,
      context.source?.uid,
      context.mutualTls ? context.sourceIdentity : '',
      context.destination?.uid,
      context.destinationIdentity,
      context.service ? `${context.service.namespace}/${context.service.hostname}` : '',
      context.mutualTls,
      flags ?? '-',
    ].join('|');
    let counters = this.#children.get(key);
    if (!counters) {
      if (this.#children.size > 10_000) this.#children.clear(); // bounded: workloads come and go
      const labels = build();
      const metrics = this.#metrics;
      counters = {
        opened: metrics.connectionsOpened.labels(labels),
        closed: metrics.connectionsClosed.labels(labels),
        received: metrics.receivedBytes.labels(labels),
        sent: metrics.sentBytes.labels(labels),
        failed: metrics.connectionsFailed.labels(labels),
      };
      this.#children.set(key, counters);
    }
    return counters;
  }

  /**
   * Count an established connection; returns the function that records its end. The response flag and
   * the access log's `error` come from the end's typed close reason.
   */
  opened(context: ConnectionContext): (end: ConnectionEnd) => void {
    const started = performance.now();
    const reporter = context.direction === 'outbound' ? 'source' : 'destination';
    const labels = (flags?: ResponseFlags) =>
      workloadTrafficLabels({
        reporter,
        source: context.source,
        destination: context.destination,
        sourcePrincipal: context.mutualTls ? context.sourceIdentity : undefined,
        destinationPrincipal: context.destinationIdentity,
        service: context.service,
        responseFlags: flags,
        mutualTls: context.mutualTls,
      });
    const base = this.#counters(context, undefined, () => labels());
    base.opened.inc();
    this.#metrics.socketsOpen.inc({ reporter });
    this.#accessLog.opened(this.#fields(context));
    let done = false;
    return ({ requestBytes, responseBytes, reason }) => {
      if (done) return;
      done = true;
      const { error, flags } = closeReport(reason);
      const failed = flags !== undefined && flags !== '-';
      const closed = failed ? this.#counters(context, flags, () => labels(flags)) : base;
      closed.closed.inc();
      closed.received.inc(requestBytes);
      closed.sent.inc(responseBytes);
      this.#metrics.socketsOpen.dec({ reporter });
      if (failed) closed.failed.inc();
      const outbound = context.direction === 'outbound';
      this.#accessLog.complete({
        ...this.#fields(context),
        bytes_sent: outbound ? requestBytes : responseBytes,
        bytes_recv: outbound ? responseBytes : requestBytes,
        duration: formatDuration(performance.now() - started),
        ...(error ? { error } : {}),
      });
    };
  }

  /** A connection that failed before it was established: a failure count (when flagged) and a warning. */
  failed(context: ConnectionContext, error: string, flags?: ResponseFlags): void {
    if (flags && flags !== '-') {
      this.#metrics.connectionsFailed.inc(
        workloadTrafficLabels({
          reporter: context.direction === 'outbound' ? 'source' : 'destination',
          source: context.source,
          destination: context.destination,
          responseFlags: flags,
          mutualTls: context.mutualTls,
        }),
      );
    }
    this.#accessLog.failed({
      'src.addr': context.sourceAddress,
      'dst.addr': context.destinationAddress,
      direction: context.direction,
      error,
      ...(context.hboneAddress ? { 'dst.hbone_addr': context.hboneAddress } : {}),
    });
  }
}
