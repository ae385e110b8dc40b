// What the operator sees of the served protocols: xDS streams coming and going, NACKs, refused callers,
// and every certificate issued or refused.
import type { CaEvent, Caller } from '@ambient-ts/ca';
import type { XdsServerEvent } from '@ambient-ts/xds';
import type { Logging } from '@ambient-ts/telemetry';
import { formatProblem, type Problem } from '../translate/problems.ts';

/** A scoped pino logger (telemetry's Logging.scope). */
export type Logger = ReturnType<Logging['scope']>;

const who = (caller: Caller | undefined): Record<string, string> =>
  caller === undefined ? {} : { caller: caller.identity, ...(caller.node === undefined ? {} : { node: caller.node }) };

export function xdsEventLogger(log: Logger): (event: XdsServerEvent<Caller>) => void {
  return (event) => {
    switch (event.kind) {
      case 'connect':
      case 'disconnect':
        log.info({ peer: event.stream.peer, ...who(event.stream.caller) }, `xDS stream ${event.kind}ed`);
        break;
      case 'nack':
        log.warn(
          { peer: event.stream.peer, ...who(event.stream.caller), type: event.typeUrl, nonce: event.nonce },
          `xDS update rejected by the proxy: ${event.message}`,
        );
        break;
      case 'rejected':
        log.warn({ peer: event.peer }, `xDS stream refused: ${event.message}`);
        break;
      case 'ack':
        log.debug({ ...who(event.stream.caller), type: event.typeUrl, nonce: event.nonce }, 'xDS update acknowledged');
        break;
      case 'request':
        break;
    }
  };
}

export function caEventLogger(log: Logger): (event: CaEvent) => void {
  return (event) => {
    if (event.kind === 'issued') {
      log.info(
        { identity: event.identity, ...who(event.caller), basis: event.basis, notAfter: event.notAfter.toISOString() },
        'certificate issued',
      );
    } else {
      log.warn({ code: event.code, ...who(event.caller) }, `certificate refused: ${event.message}`);
    }
  };
}

/** Every problem as its `file:line: Kind ns/name: …` line, at its severity. */
export function logProblems(log: Logger, problems: readonly Problem[]): void {
  for (const p of problems) {
    const fields = { file: p.file, line: p.line, ...(p.field === undefined ? {} : { field: p.field }) };
    if (p.severity === 'error') log.error(fields, formatProblem(p));
    else log.warn(fields, formatProblem(p));
  }
}
