// The README examples must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

const runExample = (marker: string) => runReadmeExample(join(import.meta.dirname, '..'), { marker });

it('README example runs and prints what it promises', async () => {
  const out = await runExample('example');
  expect(out).toContain('Kubernetes//Pod/default/echo HBONE');
  expect(out).toContain('default/echo.default.svc.cluster.local service');
  expect(out).toContain(
    '"services":{"default/echo.default.svc.cluster.local":{"ports":[{"servicePort":80,"targetPort":8080}]}}',
  );
  expect(out).toContain('mesh.yaml:19: Service default/typo: warning: spec.selector: selects no pod');
  expect(out).toContain('spiffe://cluster.local/ns/default/sa/echo');
});

it('README serve example runs: xDS over TLS with a node token, and node authorization', async () => {
  const out = await runExample('example serve');
  expect(out).toContain('xds Kubernetes//Pod/default/db Kubernetes//Pod/default/echo');
  expect(out).toContain('issued spiffe://cluster.local/ns/default/sa/echo');
  expect(out).toContain('refused CA_PERMISSION_DENIED DENIED_NOT_ON_NODE');
});
