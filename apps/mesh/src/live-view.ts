// The refreshing terminal view of the running mesh: processes, workloads, connections and bytes scraped
// from each ztunnel, denials, the behaviours' running tallies, and where to look next.
import type { LocalMesh } from './local-mesh.ts';
import type { Outcome, Scenario } from './scenarios.ts';

export interface Tally {
  ok: number;
  failed: number;
  last?: Outcome;
}

function sum(text: string, name: string, filter: (line: string) => boolean = () => true): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && filter(line)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function scrape(url: string): Promise<string> {
  try {
    return await (await fetch(url, { signal: AbortSignal.timeout(1000) })).text();
  } catch {
    return '';
  }
}

const pad = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);

export async function renderView(
  mesh: LocalMesh,
  file: string,
  tallies: Map<string, Tally>,
  scenarios: Scenario[],
  events: string[],
): Promise<string> {
  const lines: string[] = [];
  lines.push(`ambient-ts local mesh — ${file}   (Ctrl-C stops; edit the YAML and watch the mesh react)`);
  const cp = mesh.mode === 'netns' ? mesh.controlPlaneHost : 'localhost';
  lines.push(
    `control plane  xDS+CA https://${cp}:15012, http://${mesh.controlPlaneHost}:15010   state ${mesh.options.stateDir}`,
  );
  lines.push(
    mesh.mode === 'netns' && mesh.plane
      ? `mode netns     pods are network namespaces of ${mesh.plane.topology.network} (host ${mesh.plane.link.address} on its bridge); ztunnels capture in-pod (shared mode), clients are plain Node HTTP clients run in their pods`
      : 'mode loopback  pods are loopback IPs; clients reach their node’s ztunnel through SOCKS5 (no capture without root)',
  );
  lines.push('');
  lines.push(
    `${pad('PROCESS', 28)}${pad('STATE', 12)}${pad('CONNS', 8)}${pad('BYTES', 12)}${pad('DENIED', 8)}ADMIN / METRICS`,
  );
  for (const process of mesh.processes) {
    const node = mesh.nodes.find((candidate) => `ztunnel ${candidate.node}` === process.spec.role);
    const waypoint = mesh.waypointEndpoints.find(
      (candidate) => process.spec.role === `waypoint ${candidate.namespace}/${candidate.name}`,
    );
    const metrics = node ? await scrape(node.metrics) : waypoint ? await scrape(waypoint.metrics) : '';
    // ztunnels: inbound TCP connections; waypoints: HTTP requests (and how many were denied).
    const conns = node
      ? String(sum(metrics, 'istio_tcp_connections_opened_total', (line) => line.includes('reporter="destination"')))
      : waypoint
        ? `${sum(metrics, 'istio_requests_total')} req`
        : '';
    const bytes = node
      ? String(sum(metrics, 'istio_tcp_received_bytes_total') + sum(metrics, 'istio_tcp_sent_bytes_total'))
      : '';
    const denied = node
      ? String(sum(metrics, 'istio_tcp_connections_failed_total', (line) => line.includes('response_flags="DENY"')))
      : waypoint
        ? String(sum(metrics, 'istio_requests_total', (line) => /response_code="40[13]"/.test(line)))
        : '';
    const state = process.state.state + (process.restarts ? ` (${process.restarts}×)` : '');
    const agentOf = process.spec.role.startsWith('node-agent ') ? process.spec.role.slice('node-agent '.length) : '';
    const where = node
      ? `${node.admin}  ${node.metrics}`
      : waypoint
        ? `${waypoint.admin}  ${waypoint.metrics}`
        : agentOf
          ? `ZDS ${mesh.zdsSocket(agentOf)}  pods ${mesh.plane?.podsFile(agentOf) ?? ''}`
          : '';
    lines.push(
      `${pad(process.spec.role, 28)}${pad(state, 12)}${pad(conns, 8)}${pad(bytes, 12)}${pad(denied, 8)}${where}`,
    );
  }
  lines.push('');
  // Netns mode: each pod's network namespace too (for `ip netns exec`).
  const netns = (ip: string): string => (mesh.plane ? pad(mesh.plane.namespaceOf(ip) ?? '', 26) : '');
  lines.push(
    `${pad('WORKLOAD', 28)}${pad('IP', 14)}${pad('NODE', 10)}${mesh.plane ? pad('NETWORK NAMESPACE', 26) : ''}IDENTITY`,
  );
  for (const pod of mesh.mesh.pods) {
    const identity = pod.ambient
      ? `spiffe://cluster.local/ns/${pod.namespace}/sa/${pod.serviceAccount}`
      : '(not in the mesh: plain TCP)';
    lines.push(
      `${pad(`${pod.namespace}/${pod.name}`, 28)}${pad(pod.ip, 14)}${pad(pod.node, 10)}${netns(pod.ip)}${identity}`,
    );
  }
  for (const waypoint of mesh.waypointEndpoints) {
    lines.push(
      `${pad(`${waypoint.namespace}/${waypoint.name} (waypoint)`, 28)}${pad(waypoint.podIp, 14)}${pad(waypoint.node, 10)}${netns(waypoint.podIp)}spiffe://cluster.local/ns/${waypoint.namespace}/sa/${waypoint.name}`,
    );
  }
  const client = mesh.mesh.pods.find((pod) => pod.ambient && pod.ports.length === 0);
  const service = mesh.mesh.services[0];
  if (mesh.plane && client && service) {
    lines.push(
      `try it: ip netns exec ${mesh.plane.namespaceOf(client.ip) ?? '?'} curl -s http://${service.vip}:${service.ports[0]?.port ?? 80}/   (${client.namespace}/${client.name} → Service ${service.name}, captured by ztunnel ${client.node})`,
    );
  }
  // The sample client's last lookup through its ztunnel's DNS proxy (name → answer).
  const dns = tallies.get('dns')?.last;
  if (dns) lines.push(`dns: ${dns.ok ? '' : '✗ '}${dns.detail}`);
  lines.push('');
  lines.push(`${pad('BEHAVIOUR', 70)}${pad('OK', 6)}${pad('FAIL', 6)}LAST`);
  for (const scenario of scenarios) {
    const tally = tallies.get(scenario.key) ?? { ok: 0, failed: 0 };
    lines.push(
      `${pad(scenario.title, 70)}${pad(String(tally.ok), 6)}${pad(String(tally.failed), 6)}${tally.last ? `${tally.last.ok ? '✓' : '✗'} ${tally.last.detail}` : '…'}`,
    );
  }
  if (events.length > 0) {
    lines.push('');
    lines.push('EVENTS');
    for (const event of events.slice(-6)) lines.push(`  ${event}`);
  }
  return lines.join('\n');
}
