// HTTP/2 PING liveness as ztunnel does it on both ends: a PING every interval; a PING unanswered for
// the timeout means the peer is gone (node loss, deleted netns) and the connection is torn down.
import type { Http2Session } from 'node:http2';
import type { KeepaliveOptions } from './settings.ts';

/** Start PINGs on `session`; calls `onDead` once if an answer does not come in time. Returns stop(). */
export function startKeepalive(
  session: Http2Session,
  options: Required<KeepaliveOptions>,
  onDead: () => void,
): () => void {
  if (options.intervalMs === 0) return () => {};
  let deadline: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    clearInterval(interval);
    if (deadline) clearTimeout(deadline);
  };
  const tick = (): void => {
    if (stopped || deadline || session.destroyed || session.closed) return;
    deadline = setTimeout(() => {
      if (stopped) return;
      stop();
      onDead();
    }, options.timeoutMs);
    deadline.unref();
    try {
      session.ping((error) => {
        if (stopped || error) return;
        clearTimeout(deadline);
        deadline = undefined;
      });
    } catch {
      // Too many outstanding PINGs or a closing session: the deadline decides.
    }
  };
  const interval = setInterval(tick, options.intervalMs);
  interval.unref();
  session.once('close', stop);
  return stop;
}
