// AuthorizationPolicy routing, the way istiod splits it: targetRefs policies go to waypoints (L7), the
// rest become istio.security.Authorization for ztunnel (ztunnel-facts §6.2, §6.5). The policy package
// validates and translates; this file decides where the result goes and checks what it attaches to.
import type { security } from '@ambient-ts/istio-api';
import type { Deferred } from './collect.ts';
import { FieldReader, type JsonRecord } from './fields.ts';
import { checkTargetRefs, l7Name, l7Object, readTargetRefs, type L7Context } from './l7.ts';
import { ANNOTATION, type SelectorPolicyRec } from './model.ts';
import { readMeta } from './parse-core.ts';
import type { L4Converter } from './policy-adapter.ts';
import { ProblemLog } from './problems.ts';

export interface PolicyOutcome {
  readonly authorization?: { readonly name: string; readonly resource: security.Authorization };
  readonly selector?: SelectorPolicyRec;
  readonly l7?: { readonly name: string; readonly resource: JsonRecord };
}

export function handleAuthorizationPolicy(d: Deferred, ctx: L7Context, convert: L4Converter): PolicyOutcome {
  const r = d.reader;
  // The policy package reports everything wrong with the object; read what routing needs without
  // reporting it a second time.
  const quiet = new FieldReader(d.raw, r.ref, new ProblemLog());
  const meta = readMeta(quiet, true);
  const refs = readTargetRefs(quiet);
  const converted = convert(d.raw, { rootNamespace: ctx.options.rootNamespace });
  for (const problem of converted.problems) {
    if (problem.severity === 'error') r.error(problem.path, problem.message);
    else r.warn(problem.path, problem.message);
  }
  if (meta === undefined) return {};

  if (refs !== undefined) {
    // enforced by the waypoint, which loads it with the same (fail-safe) loader
    checkTargetRefs(r, meta, refs, ctx, false);
    return {
      l7: { name: l7Name('AuthorizationPolicy', meta), resource: l7Object('AuthorizationPolicy', meta, d.raw) },
    };
  }
  if (meta.annotations[ANNOTATION.dryRun] === 'true') {
    r.warn(
      ['metadata', 'annotations', ANNOTATION.dryRun],
      'dry-run policies are not sent to ztunnel (istiod skips them)',
    );
    return {};
  }
  const authorization = converted.authorization;
  if (authorization === undefined) return {};
  // A policy with errors is still sent, in the policy loader's fail-safe form: dropping an ALLOW would widen access.
  const key = `${meta.namespace}/${meta.name}`;
  let selector: SelectorPolicyRec | undefined;
  if (authorization.scope === 'WORKLOAD_SELECTOR') {
    const matchLabels = quiet.stringMap(['spec', 'selector', 'matchLabels']);
    selector = { key, namespace: meta.namespace, matchLabels, ref: meta.ref };
    if (Object.keys(matchLabels).length === 0) {
      r.warn(
        ['spec', 'selector'],
        'a selector without matchLabels selects every pod of the namespace; omit selector for a namespace-wide policy',
      );
    }
  }
  return { authorization: { name: key, resource: authorization }, ...(selector === undefined ? {} : { selector }) };
}
