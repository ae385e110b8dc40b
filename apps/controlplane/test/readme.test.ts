// The README examples must run as written.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

function runExample(marker: string): string {
  const code = new RegExp(`<!-- ${marker} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  expect(code).toBeDefined();
  // Inside the app directory, '@ambient-ts/controlplane' resolves to itself through package.json "exports".
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  writeFileSync(join(dir, 'example.ts'), code!);
  try {
    return execFileSync(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], { cwd: dir }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('README example runs and prints what it promises', () => {
  const out = runExample('example');
  expect(out).toContain('Kubernetes//Pod/default/echo HBONE');
  expect(out).toContain('default/echo.default.svc.cluster.local service');
  expect(out).toContain(
    '"services":{"default/echo.default.svc.cluster.local":{"ports":[{"servicePort":80,"targetPort":8080}]}}',
  );
  expect(out).toContain('mesh.yaml:19: Service default/typo: warning: spec.selector: selects no pod');
  expect(out).toContain('spiffe://cluster.local/ns/default/sa/echo');
});

it('README serve example runs: xDS over TLS with a node token, and node authorization', () => {
  const out = runExample('example serve');
  expect(out).toContain('xds Kubernetes//Pod/default/db Kubernetes//Pod/default/echo');
  expect(out).toContain('issued spiffe://cluster.local/ns/default/sa/echo');
  expect(out).toContain('refused CA_PERMISSION_DENIED DENIED_NOT_ON_NODE');
});
