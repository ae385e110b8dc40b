#!/usr/bin/env node
// `hbone`: answer or open HBONE tunnels from the command line (operators, interop checks).
import { setDefaultHighWaterMark } from 'node:stream';
import { parseArgs } from 'node:util';
import { connect, serve } from './cli-commands.ts';
import { HboneError } from './errors.ts';

const usage = `usage:
  hbone serve   --listen ADDR --cert FILE --key FILE --ca FILE [--echo | --forward] [--tls12]
  hbone connect --to ADDR --authority HOST:PORT --cert FILE --key FILE --ca FILE
                [--expect-identity SPIFFE_ID]... [--header NAME=VALUE]... [--source-ip IP] [--tls12] [-v]

serve     Answer HBONE (mutual TLS 1.3, ALPN h2, HTTP/2 CONNECT) on ADDR, e.g. 0.0.0.0:15008.
          --echo     send every tunnel's bytes back (default)
          --forward  dial the CONNECT authority (ip:port or host:port) and splice; 503 if that fails
          Clients must present a certificate of the same SPIFFE trust domain, chained to --ca.
connect   Open one tunnel to ADDR (e.g. 10.0.0.7:15008) for HOST:PORT and pipe stdin/stdout through it.
          --expect-identity  the server certificate must carry one of these SPIFFE IDs exactly;
                             without it any server of our own trust domain is accepted (and named on stderr)
          --header           extra CONNECT request header (repeatable), e.g. --header baggage=k8s.namespace.name=a

Files: --cert is the PEM chain (leaf first; its spiffe:// URI SAN is our identity), --key its private key,
--ca the trust anchors. ADDR is host:port or [ipv6]:port.
Exit status: 0 tunnel finished cleanly; 1 the tunnel failed (stderr says why, with the HTTP status of a refused
CONNECT, e.g. "HTTP 503"); 2 usage error.`;

// Buffer up to 1 MiB per stream before backpressure (fewer pause/resume cycles per byte; see README).
setDefaultHighWaterMark(false, 1 << 20);

function fail(message: string): never {
  process.stderr.write(`hbone: ${message}\n\n${usage}\n`);
  process.exit(2);
}

function required(values: Record<string, unknown>, names: string[]): void {
  const missing = names.filter((name) => typeof values[name] !== 'string' || values[name] === '');
  if (missing.length > 0) fail(`missing ${missing.map((name) => `--${name}`).join(', ')}`);
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        listen: { type: 'string' },
        to: { type: 'string' },
        authority: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        echo: { type: 'boolean', default: false },
        forward: { type: 'boolean', default: false },
        tls12: { type: 'boolean', default: false },
        'expect-identity': { type: 'string', multiple: true, default: [] },
        header: { type: 'string', multiple: true, default: [] },
        'source-ip': { type: 'string' },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const files = { cert: values.cert!, key: values.key!, ca: values.ca!, tls12: values.tls12 };
  if (command === 'serve') {
    required(values, ['listen', 'cert', 'key', 'ca']);
    if (values.echo && values.forward) fail('choose one of --echo and --forward');
    await serve({ ...files, listen: values.listen!, mode: values.forward ? 'forward' : 'echo' });
    return undefined; // keeps running until SIGINT/SIGTERM
  }
  if (command === 'connect') {
    required(values, ['to', 'authority', 'cert', 'key', 'ca']);
    const headers: Record<string, string> = {};
    for (const header of values.header) {
      const eq = header.indexOf('=');
      if (eq <= 0) fail(`--header must be NAME=VALUE, got "${header}"`);
      headers[header.slice(0, eq).toLowerCase()] = header.slice(eq + 1);
    }
    return connect({
      ...files,
      to: values.to!,
      authority: values.authority!,
      expectIdentities: values['expect-identity'],
      headers,
      ...(values['source-ip'] === undefined ? {} : { sourceIp: values['source-ip'] }),
      verbose: values.verbose,
    });
  }
  fail(`unknown command "${command}"`);
}

main(process.argv.slice(2)).then(
  (status) => {
    // A finished `connect` leaves a pooled connection open: exit once stdout is flushed.
    if (status !== undefined) process.stdout.write('', () => process.exit(status));
  },
  (error: unknown) => {
    const usageError = HboneError.isHboneError(error) && error.code === 'INVALID_OPTIONS';
    process.stderr.write(
      `hbone: ${HboneError.isHboneError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`,
    );
    process.exit(usageError ? 2 : 1);
  },
);
