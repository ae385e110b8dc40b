// Whether this machine can do transparent capture (PROXY_MODE=shared, and original destination in
// dedicated mode): that needs @ambient-ts/netns, an optional dependency whose native addon may not be built
// (no compiler, not Linux). Loaded lazily so ztunnel runs without it; the answer says why not.
export type CaptureSupport = { available: true } | { available: false; reason: string };

export async function captureSupport(): Promise<CaptureSupport> {
  try {
    const { netnsSupport } = await import('@ambient-ts/netns');
    return netnsSupport();
  } catch (error) {
    return { available: false, reason: `@ambient-ts/netns is not installed (${(error as Error).message})` };
  }
}
