// @ambient-ts/netns-topology: network-namespace test topologies (facts §9.4), ztunnel's in-pod and dedicated-mode iptables
// rules (facts §9.3), and running programs inside a namespace. Linux and root only; drives Debian's ip and iptables.
export { CommandError, exec, run, start, type NamespacedProcess, type RunOptions, type RunResult } from './exec.ts';
export {
  NAMESPACE_PREFIX,
  addPod,
  adoptTopology,
  createTopology,
  listNamespaces,
  removePod,
  sweepStaleNamespaces,
  type AddPodOptions,
  type NodeInfo,
  type PodInfo,
  type Topology,
  type TopologyOptions,
} from './topology.ts';
export {
  OUTBOUND_CAPTURE_PORT,
  ORIG_SRC_CONNMARK,
  PROBE_ADDRESS,
  ZTUNNEL_MARK,
  dedicatedRules,
  detectIptables,
  formatRules,
  inpodRules,
  installDedicatedRules,
  installInpodRules,
  listDedicatedRules,
  listInpodRules,
  removeDedicatedRules,
  removeInpodRules,
  type InstalledDedicatedRules,
  type InpodRuleOptions,
  type InpodRules,
  type InstalledRules,
  type Iptables,
  type IptablesFlavour,
} from './iptables.ts';
export { HOST_ADDRESS, HostLinkConflict, linkHost, type HostLink, type LinkHostOptions } from './host-link.ts';
export {
  startTcpServer,
  tcpExchange,
  type AcceptedConnection,
  type TcpExchange,
  type TcpServer,
  type TcpServerOptions,
} from './workloads.ts';

/** Whether this process can build topologies (root on Linux); tests skip by name when not. */
export const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
