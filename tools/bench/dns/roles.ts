// Child roles of the DNS bench: `upstream` is the authoritative nameserver on loopback every forwarded query
// ends at (and the "direct" baseline asks), built on @ambient-ts/dns/testing.
import { startTestUpstream } from '@ambient-ts/dns/testing';

const [role, json] = process.argv.slice(2);
const config = JSON.parse(json ?? '{}') as { host: string; port: number };
if (role !== 'upstream') throw new Error(`unknown role ${role}`);
const upstream = await startTestUpstream({
  host: config.host,
  port: config.port,
  records: { 'forwarded.example': [{ type: 'A', data: '192.0.2.10' }] },
});
// `asked` would grow with every query: a bench upstream keeps no history
upstream.asked.length = 0;
setInterval(() => (upstream.asked.length = 0), 1000).unref();
console.log(`READY ${JSON.stringify({ host: upstream.host, port: upstream.port })}`);
process.on('message', () => process.send?.({ received: upstream.received }));
process.on('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
