// The sample workloads: an HTTP echo server per pod container port, answering with who it is and what it
// saw (so a route or a policy decision is visible in the response).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { formatHostPort } from '@ambient-ts/addresses';

export interface PodApp {
  name: string;
  namespace: string;
  version: string;
  ip: string;
  port: number;
}

export async function startEchoApp(app: PodApp): Promise<Server> {
  const server = createServer((request, response) => {
    const body = JSON.stringify({
      pod: app.name,
      namespace: app.namespace,
      version: app.version,
      method: request.method,
      path: request.url,
      headers: request.headers,
    });
    response.writeHead(200, { 'content-type': 'application/json', 'x-served-by': app.name });
    response.end(body);
  });
  server.keepAliveTimeout = 1000;
  server.listen({ host: app.ip, port: app.port });
  const [error] = await Promise.race([once(server, 'listening').then(() => [undefined]), once(server, 'error')]);
  if (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `sample app ${app.namespace}/${app.name} cannot listen on ${formatHostPort(app.ip, app.port)} (${code})${code === 'EADDRINUSE' ? ': another process uses that port' : ''}`,
    );
  }
  return server;
}
