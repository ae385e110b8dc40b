#!/usr/bin/env node
// A plain DNS lookup for netns mode, run inside a pod's network namespace (`ip netns exec <pod ns> node
// pod-dns-client.ts NAME SERVER [TIMEOUT_MS]`): node:dns's Resolver asking SERVER:53 for NAME's A records,
// nothing mesh-aware — the pod's in-pod rules redirect port 53 to ztunnel's DNS proxy on 15053 inside the pod.
// Prints one JSON line, `{"addresses"}` or `{"error"}`, and exits 0; any other exit means it could not run.
import { Resolver } from 'node:dns/promises';

const [name = '', server = '', timeoutText = '3000'] = process.argv.slice(2);
const resolver = new Resolver({ timeout: Number(timeoutText), tries: 1 });
resolver.setServers([server]);
try {
  const addresses = await resolver.resolve4(name);
  process.stdout.write(`${JSON.stringify({ addresses })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: (error as NodeJS.ErrnoException).code ?? String(error) })}\n`);
}
