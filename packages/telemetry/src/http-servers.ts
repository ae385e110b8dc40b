// The three operator HTTP servers of an ambient proxy: admin (config dump, logging, quit), metrics and
// readiness. Each is a plain node:http server the app binds where ztunnel binds them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { encodeBody } from './exposition.ts';
import type { Logging } from './logging.ts';
import type { ProxyMetrics } from './proxy-metrics.ts';
import type { Readiness } from './readiness.ts';

function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(body);
}

function pathOf(request: IncomingMessage): URL {
  return new URL(request.url ?? '/', 'http://localhost');
}

export function createReadinessServer(readiness: Readiness): Server {
  return createServer((request, response) => {
    if (pathOf(request).pathname !== '/healthz/ready') return send(response, 404, 'not found\n');
    if (readiness.ready) return send(response, 200, 'ready\n');
    send(response, 500, `not ready, pending: ${readiness.pending().join(', ')}\n`);
  });
}

export function createMetricsServer(metrics: ProxyMetrics): Server {
  return createServer((request, response) => {
    const path = pathOf(request).pathname;
    if (path !== '/metrics' && path !== '/stats/prometheus') return send(response, 404, 'not found\n');
    metrics.render().then(
      (text) => {
        const accept = request.headers['accept-encoding'];
        const encoded = encodeBody(
          text,
          metrics.registry.contentType,
          Array.isArray(accept) ? accept.join(',') : accept,
        );
        send(response, 200, encoded.body, encoded.headers);
      },
      (error: Error) => send(response, 500, `failed to render metrics: ${error.message}\n`),
    );
  });
}

export interface AdminHandlers {
  /** The JSON document served at /config_dump. */
  configDump: () => unknown | Promise<unknown>;
  logging: Logging;
  /** Starts a graceful shutdown; the response is sent before it proceeds. */
  quit: () => void;
  /** Name shown on the dashboard. */
  title?: string;
}

const loggingUsage =
  'usage: POST /logging                 show the current level\n' +
  '       POST /logging?level=<level>   set the default level (trace, debug, info, warn, error, off)\n' +
  '       POST /logging?level=<scope>:<level>,...   set levels per scope (e.g. access:debug)\n' +
  '       POST /logging?reset           restore the start-up levels\n';

function handleLogging(request: IncomingMessage, response: ServerResponse, logging: Logging): void {
  if (request.method !== 'POST') return send(response, 405, `/logging only accepts POST\n${loggingUsage}`);
  const query = pathOf(request).searchParams;
  if (query.has('reset')) {
    logging.reset();
    return send(response, 200, logging.describe());
  }
  const level = query.get('level');
  if (level === null) return send(response, 200, logging.describe());
  try {
    logging.setLevels(level);
  } catch (error) {
    return send(response, 400, `${(error as Error).message}\n${loggingUsage}`);
  }
  send(response, 200, logging.describe());
}

export function createAdminServer(handlers: AdminHandlers): Server {
  return createServer((request, response) => {
    const path = pathOf(request).pathname;
    switch (path) {
      case '/':
        return send(
          response,
          200,
          `<!doctype html><title>${handlers.title ?? 'admin'}</title><h1>${handlers.title ?? 'admin'}</h1>` +
            '<ul><li><a href="/config_dump">/config_dump</a></li><li>POST /logging</li><li>POST /quitquitquit</li></ul>',
          { 'content-type': 'text/html; charset=utf-8' },
        );
      case '/config_dump':
        Promise.resolve()
          .then(handlers.configDump)
          .then(
            (dump) => send(response, 200, JSON.stringify(dump, null, 2), { 'content-type': 'application/json' }),
            (error: Error) => send(response, 500, `config dump failed: ${error.message}\n`),
          );
        return;
      case '/logging':
        return handleLogging(request, response, handlers.logging);
      case '/quitquitquit':
        if (request.method !== 'POST') return send(response, 405, '/quitquitquit only accepts POST\n');
        send(response, 200, 'shutdown now\n');
        handlers.quit();
        return;
      default:
        send(response, 404, 'not found\n');
    }
  });
}

/** The three operator servers of a proxy, not yet listening. */
export interface OperatorServers {
  readonly admin: Server;
  readonly stats: Server;
  readonly readiness: Server;
}

export function createOperatorServers(
  handlers: AdminHandlers & { readonly metrics: ProxyMetrics; readonly readiness: Readiness },
): OperatorServers {
  return {
    admin: createAdminServer(handlers),
    stats: createMetricsServer(handlers.metrics),
    readiness: createReadinessServer(handlers.readiness),
  };
}

/** Close all three; resolves when they are closed. */
export async function closeOperatorServers(servers: OperatorServers): Promise<void> {
  await Promise.all(
    [servers.admin, servers.stats, servers.readiness].map((server) => new Promise((resolve) => server.close(resolve))),
  );
}
