// A dedicated-mode ztunnel for the netns tests, started inside a node's namespace (`ip netns exec … node
// --conditions=ambient-ts-source dedicated-ztunnel.ts <ca dir>`): the real Ztunnel configured from the environment
// exactly as main.ts does, except that certificates come from the test's CA (loaded from <ca dir>), so ztunnels in
// different processes trust the same root. SIGTERM drains and exits 0.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority } from '@ambient-ts/ca';
import { LocalCa } from '@ambient-ts/certs';
import { loadConfig } from '../../src/config.ts';
import { Ztunnel } from '../../src/ztunnel.ts';

const caDir = process.argv[2];
if (!caDir) throw new Error('usage: dedicated-ztunnel.ts <directory with ca-cert.pem and ca-key.pem>');
const authority = CertificateAuthority.load({
  trustDomain: 'cluster.local',
  certPem: readFileSync(join(caDir, 'ca-cert.pem'), 'utf8'),
  keyPem: readFileSync(join(caDir, 'ca-key.pem'), 'utf8'),
});
const ztunnel = await Ztunnel.start(loadConfig(), { caClient: new LocalCa({ authority }) });
process.once('SIGTERM', () => {
  void ztunnel.drain(200).finally(() => process.exit(0));
});
