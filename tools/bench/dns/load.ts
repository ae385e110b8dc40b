// A closed-loop UDP DNS load generator: `concurrency` queries outstanding, each answer sends the next; the
// latency of every answer is kept for percentiles. Lost datagrams are re-sent after 1 s and counted.
import { createSocket } from 'node:dgram';
import { encodeQuery } from '@ambient-ts/dns';

export interface LoadResult {
  answers: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  errors: number;
}

export async function runLoad(options: {
  server: { host: string; port: number };
  name: string;
  source: string;
  concurrency: number;
  durationMs: number;
}): Promise<LoadResult> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, options.source, resolve));
  const template = encodeQuery(options.name, 'A', 0);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let nextId = 0;
  let lost = 0;
  let errors = 0;
  let running = true;
  const send = (): void => {
    if (!running) return;
    const id = nextId++ & 0xffff;
    const message = Buffer.from(template);
    message.writeUInt16BE(id, 0);
    sentAt.set(id, performance.now());
    socket.send(message, options.server.port, options.server.host);
  };
  socket.on('message', (reply) => {
    const started = sentAt.get(reply.readUInt16BE(0));
    if (started === undefined) return;
    sentAt.delete(reply.readUInt16BE(0));
    if ((reply.readUInt16BE(2) & 0xf) !== 0 || reply.readUInt16BE(6) === 0) errors++;
    latencies.push(performance.now() - started);
    send();
  });
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [id, started] of sentAt) {
      if (now - started < 1000) continue;
      sentAt.delete(id);
      lost++;
      send();
    }
  }, 100);
  const started = performance.now();
  for (let i = 0; i < options.concurrency; i++) send();
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  running = false;
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sweeper);
  socket.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    answers: latencies.length,
    perSecond: latencies.length / elapsed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    lost,
    errors,
  };
}
