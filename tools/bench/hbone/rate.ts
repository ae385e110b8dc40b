// The tunnel-rate loop shared by the HBONE, bare node:http2 and TCP rows: `concurrency` loops each
// opening a connection or tunnel, echoing one byte and closing it, for `seconds` after a 0.5 s warm-up.
import { cpuSeconds } from './processes.ts';

export interface RateResult {
  perSecond: number;
  /** CPU microseconds per tunnel in this process and in the server process. */
  clientCpuUs: number;
  serverCpuUs: number;
}

export async function measureRate(
  one: () => Promise<void>,
  options: { concurrency: number; seconds: number; serverPid?: number },
): Promise<RateResult> {
  const run = async (ms: number): Promise<number> => {
    let done = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < end) {
          await one();
          done++;
        }
      }),
    );
    return done;
  };
  await run(500);
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const server0 = options.serverPid ? cpuSeconds(options.serverPid) : 0;
  const count = await run(options.seconds * 1000);
  const perSecond = count / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const serverSeconds = options.serverPid ? cpuSeconds(options.serverPid) - server0 : 0;
  return { perSecond, clientCpuUs: (cpu.user + cpu.system) / count, serverCpuUs: (serverSeconds * 1e6) / count };
}
