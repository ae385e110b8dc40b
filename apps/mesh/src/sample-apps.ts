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
  /** Netns mode: the pod's network namespace (an open fd of /run/netns/<name>); the app listens inside it. */
  netns?: number;
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
  if (app.netns === undefined) server.listen({ host: app.ip, port: app.port });
  else {
    // The socket is made inside the pod's namespace (the app's own view: it listens on every address there).
    const { listenFd } = await import('@ambient-ts/netns');
    let fd: number;
    try {
      fd = listenFd({ netns: app.netns, host: '0.0.0.0', port: app.port });
    } catch (error) {
      throw new Error(
        `sample app ${app.namespace}/${app.name} cannot listen on port ${app.port} in its pod namespace: ${(error as Error).message}`,
        { cause: error },
      );
    }
    server.listen({ fd });
  }
  const [error] = await Promise.race([once(server, 'listening').then(() => [undefined]), once(server, 'error')]);
  if (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `sample app ${app.namespace}/${app.name} cannot listen on ${formatHostPort(app.ip, app.port)} (${code})${code === 'EADDRINUSE' ? ': another process uses that port' : ''}`,
    );
  }
  return server;
}
