import { describe, expect, it } from 'vitest';
import { kube, req } from '../test/helpers.ts';
import { authorizeRequest, customChecksFor, type ExternalAuthorizer } from './custom.ts';

const custom = kube(
  { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ to: [{ operation: { paths: ['/api*'] } }] }] },
  { name: 'ext' },
);
const allowAll = kube({ rules: [{}] }, { name: 'allow-all' });

function authorizer(answer: boolean | Error, calls: string[] = [], failOpen = false): ExternalAuthorizer {
  return {
    failOpen,
    async check(request, context) {
      calls.push(`${context.provider}:${context.policy}:${request.path}`);
      if (answer instanceof Error) throw answer;
      return { allowed: answer, status: answer ? 200 : 403, headersToUpstream: { 'x-user': 'alice' } };
    },
  };
}

describe('CUSTOM through the external authorizer hook', () => {
  it('consults the provider only when the CUSTOM rules match', async () => {
    const calls: string[] = [];
    const result = await authorizeRequest([custom, allowAll], req({ path: '/public' }), {
      authorizers: { opa: authorizer(false, calls) },
    });
    expect(result.decision.allowed).toBe(true);
    expect(calls).toEqual([]);
    expect(customChecksFor([custom], req({ path: '/api/x' }))).toEqual([
      { policy: 'ns/ext', provider: 'opa', rule: 0 },
    ]);
  });

  it('allowed by the provider and by ALLOW/DENY', async () => {
    const calls: string[] = [];
    const result = await authorizeRequest([custom, allowAll], req({ path: '/api/x' }), {
      authorizers: { opa: authorizer(true, calls) },
    });
    expect(result.decision).toMatchObject({ allowed: true, custom: [{ provider: 'opa', result: 'allow' }] });
    expect(result.responses['opa']).toMatchObject({ headersToUpstream: { 'x-user': 'alice' } });
    expect(calls).toEqual(['opa:ns/ext:/api/x']);
  });

  it('denied by the provider', async () => {
    const result = await authorizeRequest([custom, allowAll], req({ path: '/api/x' }), {
      authorizers: { opa: authorizer(false) },
    });
    expect(result.decision).toMatchObject({
      allowed: false,
      reason: 'denied by external authorizer "opa" (policy ns/ext)',
    });
  });

  it('fails closed when the provider is unknown or the check throws, unless failOpen', async () => {
    expect((await authorizeRequest([custom], req({ path: '/api' }))).decision.allowed).toBe(false);
    expect(
      (
        await authorizeRequest([custom], req({ path: '/api' }), {
          authorizers: { opa: authorizer(new Error('timeout')) },
        })
      ).decision.allowed,
    ).toBe(false);
    expect(
      (
        await authorizeRequest([custom], req({ path: '/api' }), {
          authorizers: { opa: authorizer(new Error('timeout'), [], true) },
        })
      ).decision.allowed,
    ).toBe(true);
  });

  it('a dry-run CUSTOM policy is reported, not consulted', async () => {
    const shadow = kube(
      { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] },
      { name: 'shadow', annotations: { 'istio.io/dry-run': 'true' } },
    );
    const calls: string[] = [];
    const result = await authorizeRequest([shadow], req(), { authorizers: { opa: authorizer(false, calls) } });
    expect(result.decision).toMatchObject({ allowed: true, dryRun: [{ policy: 'ns/shadow', action: 'CUSTOM' }] });
    expect(calls).toEqual([]);
  });
});
