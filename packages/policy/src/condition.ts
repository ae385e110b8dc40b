// Describing conditions and the request's values for explanations. Evaluation lives in compile.ts.
import type { Attr, Prepared } from './attributes.ts';
import { lookupClaim } from './compile.ts';
import { formatCidr, formatIp } from '@ambient-ts/addresses';
import type { Condition } from './model.ts';
import { formatStringMatcher } from './string-match.ts';

export { evalCondition, FALSE, TRUE, UNKNOWN, type Tri } from './compile.ts';

/** The condition's values in Istio notation, for explanations. */
export function describeValues(condition: Condition): string[] {
  switch (condition.attribute) {
    case 'source.serviceAccount':
      return condition.values.map((sa) => `${sa.namespace}/${sa.serviceAccount}`);
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip':
      return condition.values.map(formatCidr);
    case 'destination.port':
      return condition.values.map(String);
    case 'request.path':
    case 'request.auth.principal':
      return condition.values.map((value) => value.text);
    default:
      return condition.values.map(formatStringMatcher);
  }
}

function show<T>(attr: Attr<T>, format: (value: T) => string): string {
  if (!attr.ok) return `<unusable: ${attr.reason}>`;
  return attr.value === undefined ? '<absent>' : format(attr.value);
}

/** The request's value for the condition's attribute, for explanations. */
export function describeActual(condition: Condition, prepared: Prepared): string {
  switch (condition.attribute) {
    case 'source.principal':
      return show(prepared.peer, (peer) => peer.principal);
    case 'source.namespace':
      return show(prepared.peer, (peer) => peer.namespace ?? '<none>');
    case 'source.trustDomain':
      return show(prepared.peer, (peer) => peer.trustDomain ?? '<none>');
    case 'source.serviceAccount':
      return show(prepared.peer, (peer) => `${peer.namespace ?? ''}/${peer.serviceAccount ?? ''}`);
    case 'source.ip':
      return show(prepared.sourceIp, formatIp);
    case 'remote.ip':
      return show(prepared.remoteIp, formatIp);
    case 'destination.ip':
      return show(prepared.destinationIp, formatIp);
    case 'destination.port':
      return show(prepared.destinationPort, String);
    case 'connection.sni':
      return prepared.sni ?? '<absent>';
    case 'request.method':
      return show(prepared.method, (value) => value);
    case 'request.host':
      return show(prepared.host, (value) => value);
    case 'request.path':
      return show(prepared.path, (value) => value);
    case 'request.headers':
      return show(prepared.header(condition.header), (value) => value);
    case 'request.auth.principal':
      return prepared.auth?.principal ?? '<no request principal>';
    case 'request.auth.audiences':
      return JSON.stringify(prepared.auth?.audiences ?? prepared.auth?.claims?.['aud'] ?? null);
    case 'request.auth.presenter':
      return prepared.auth?.presenter ?? String(prepared.auth?.claims?.['azp'] ?? '<absent>');
    case 'request.auth.claims':
      return JSON.stringify(lookupClaim(prepared.auth?.claims, condition.claim) ?? null);
  }
}
