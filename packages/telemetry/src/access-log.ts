// Access-log records with ztunnel's field names (scope `access`): "connection opened" (debug),
// "connection complete" (info, or error with `error=`), "connection failed" (warn, early failures).
import type { Logger } from 'pino';

export interface AccessLogFields {
  'src.addr'?: string;
  'src.workload'?: string;
  'src.namespace'?: string;
  'src.identity'?: string;
  'src.cluster'?: string;
  'dst.addr'?: string;
  'dst.hbone_addr'?: string;
  'dst.service'?: string;
  'dst.workload'?: string;
  'dst.namespace'?: string;
  'dst.identity'?: string;
  'dst.cluster'?: string;
  direction: 'inbound' | 'outbound';
  bytes_sent?: number;
  bytes_recv?: number;
  duration?: string;
  error?: string;
}

/** `13ms`, `2s`, as ztunnel prints durations. */
export function formatDuration(milliseconds: number): string {
  return milliseconds >= 10_000 ? `${Math.round(milliseconds / 1000)}s` : `${Math.round(milliseconds)}ms`;
}

/**
 * Drop empty values so lines only carry what is known (identities only for mTLS). The message rides in
 * the object so it is written before the fields, in ztunnel's order (level, time, scope, message, ...).
 */
function record(message: string, fields: Partial<AccessLogFields>): Record<string, unknown> {
  const present = Object.entries(fields).filter(([, value]) => value !== undefined && value !== '');
  return { message, ...Object.fromEntries(present) };
}

export class AccessLog {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  opened(fields: AccessLogFields): void {
    this.#logger.debug(record('connection opened', fields));
  }

  complete(fields: AccessLogFields): void {
    if (fields.error) this.#logger.error(record('connection complete', fields));
    else this.#logger.info(record('connection complete', fields));
  }

  /** Early failure, before the connection's full context is known. */
  failed(
    fields: Pick<AccessLogFields, 'src.addr' | 'dst.addr' | 'direction' | 'error'> & Partial<AccessLogFields>,
  ): void {
    this.#logger.warn(record('connection failed', fields));
  }
}
