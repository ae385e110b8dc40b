#!/usr/bin/env node
// A plain HTTP client for netns mode, run inside a pod's network namespace (`ip netns exec <pod ns> node
// pod-http-client.ts URL [HEADERS_JSON] [TIMEOUT_MS]`): one GET with node:http, no proxy settings, nothing
// mesh-aware — the pod's iptables rules hand the connection to ztunnel. Prints one JSON line,
// `{"status","headers","body"}` or `{"error"}` (a refused, reset or timed-out connection), and exits 0; any other
// exit means the client itself could not run.
import { request } from 'node:http';

const [url = '', headersJson = '{}', timeoutText = '5000'] = process.argv.slice(2);
const timeoutMs = Number(timeoutText);
const done = (result: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
};
const timer = setTimeout(() => done({ error: `timed out after ${timeoutMs} ms` }), timeoutMs);
const outgoing = request(
  url,
  { headers: { connection: 'close', ...(JSON.parse(headersJson) as Record<string, string>) }, agent: false },
  (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (body += chunk));
    response.on('end', () => {
      clearTimeout(timer);
      done({ status: response.statusCode ?? 0, headers: response.headers, body });
    });
    response.on('error', (error) => done({ error: error.message }));
  },
);
outgoing.on('error', (error: NodeJS.ErrnoException) => {
  clearTimeout(timer);
  done({
    error: error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message,
  });
});
outgoing.end();
