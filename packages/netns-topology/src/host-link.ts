// A link from the host's own network namespace into a topology's bridge, the way a cluster node's host
// network reaches its pods: a veth whose peer is a port of br0, the host address 172.172.0.254 on it, and
// host routes to each node's pod /24 via that node. It lets programs on the host (a control plane, a
// hostNetwork ztunnel, an operator's curl) and pods reach each other. Only what this link adds is ever
// touched: a route the host already has makes the link refuse (or wait), never replace it; removing the
// link deletes its veth, which takes its address and routes with it (so does deleting the topology).
import { execFileSync } from 'node:child_process';
import { run, CommandError } from './exec.ts';
import type { Topology } from './topology.ts';

/** The host's address on the topology bridge (the bridge itself is 172.172.0.1, nodes 172.172.0.<id>). */
export const HOST_ADDRESS = '172.172.0.254';
const BRIDGE_PREFIX = '172.172.0.0/16';
/** The link's port on br0, inside the topology's network namespace. */
const BRIDGE_PORT = 'vethhost';

export interface HostLink {
  /** The host-side veth (`atnh-<6 hex of the topology>`). */
  readonly device: string;
  /** 172.172.0.254. */
  readonly address: string;
  /** Every host route the link added, `ip route` syntax (the bridge /16 first, then one per node). */
  readonly routes: readonly string[];
  /** Deletes the veth (and with it the address and the routes). Idempotent; never throws. */
  unlink(): Promise<void>;
}

export interface LinkHostOptions {
  /**
   * When another topology is linked (or the host has one of the routes), retry for this long before refusing.
   * Default 0: refuse at once.
   */
  waitMs?: number;
  /** Called once when the first attempt meets a conflict and the link waits (with that conflict). */
  onWait?: (conflict: HostLinkConflict) => void;
}

/** A host route the link would need is already there (another linked topology, or the host's own). */
export class HostLinkConflict extends Error {
  readonly code = 'NETNS_HOST_ROUTE_TAKEN';
  readonly route: string;
  constructor(route: string, holder: string) {
    super(
      `host route ${route} is taken (${holder}): another topology is linked to the host, or the host uses that range`,
    );
    this.name = 'HostLinkConflict';
    this.route = route;
  }
}

const links = new Map<string, Promise<HostLink>>();
let exitHookInstalled = false;

/**
 * Links the host to the topology (idempotent: the same topology gets the same link). Refuses with a
 * `HostLinkConflict` when one of its routes exists on the host, after retrying for `options.waitMs`.
 */
export function linkHost(topology: Topology, options: LinkHostOptions = {}): Promise<HostLink> {
  let link = links.get(topology.network);
  if (!link) {
    link = establish(topology, options);
    links.set(topology.network, link);
    link.catch(() => links.delete(topology.network));
  }
  return link;
}

async function establish(topology: Topology, options: LinkHostOptions): Promise<HostLink> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let told = false;
  for (;;) {
    try {
      return await attempt(topology);
    } catch (error) {
      if (!(error instanceof HostLinkConflict) || Date.now() >= deadline) throw error;
      if (!told) options.onWait?.(error);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function attempt(topology: Topology): Promise<HostLink> {
  const device = `atnh-${topology.network.slice(-6)}`;
  const routes = [
    `${BRIDGE_PREFIX} dev ${device} src ${HOST_ADDRESS}`,
    ...topology.nodes.map((node) => `10.0.${node.id}.0/24 via ${node.ip} dev ${device}`),
  ];
  const unlink = async (): Promise<void> => {
    await run(['ip', 'link', 'del', device]).catch(() => undefined);
    links.delete(topology.network);
    linked.delete(device);
  };
  await run(['ip', 'link', 'del', device]).catch(() => undefined); // a previous attempt's leftover
  // Refuse before creating anything when a host route overlaps one of ours (the same prefix, a wider one such as
  // a VPN's 10.0.0.0/8, or a narrower one): adding ours would take traffic from it. The default route is fine.
  for (const route of routes) {
    const prefix = route.split(' ')[0]!;
    const overlapping = await overlaps(prefix);
    if (overlapping) throw new HostLinkConflict(prefix, `\`${overlapping}\``);
  }
  await run(['ip', 'link', 'add', device, 'type', 'veth', 'peer', 'name', BRIDGE_PORT, 'netns', topology.network]);
  linked.add(device);
  installExitHook();
  try {
    await run(['ip', '-n', topology.network, 'link', 'set', BRIDGE_PORT, 'master', 'br0', 'up']);
    await run(['ip', 'addr', 'add', `${HOST_ADDRESS}/32`, 'dev', device]);
    await run(['ip', 'link', 'set', device, 'up']);
    for (const route of routes) {
      try {
        await run(['ip', 'route', 'add', ...route.split(' ')]);
      } catch (error) {
        if (error instanceof CommandError && /File exists/i.test(error.stderr))
          throw new HostLinkConflict(route.split(' ')[0]!, await holder(route.split(' ')[0]!));
        throw error;
      }
    }
  } catch (error) {
    await unlink();
    throw error;
  }
  return { device, address: HOST_ADDRESS, routes, unlink };
}

/** A host route (main table) other than the default that contains, equals or lies inside `prefix`. */
async function overlaps(prefix: string): Promise<string | undefined> {
  const show = async (...selector: string[]): Promise<string[]> =>
    (await run(['ip', '-4', 'route', 'show', ...selector, prefix]).catch(() => ({ stdout: '' }))).stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('default'));
  return [...(await show('match')), ...(await show('root'))][0];
}

/** Who holds a route the link wanted, for the error message. */
async function holder(prefix: string): Promise<string> {
  const { stdout } = await run(['ip', 'route', 'show', 'exact', prefix]).catch(() => ({ stdout: '' }));
  return stdout.trim() ? `\`${stdout.trim().split('\n')[0]}\`` : 'gone again';
}

const linked = new Set<string>();

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that exits without unlink(): its veth goes now, not only when its topology is swept.
  process.once('exit', () => {
    for (const device of linked) {
      try {
        execFileSync('ip', ['link', 'del', device], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });
}
