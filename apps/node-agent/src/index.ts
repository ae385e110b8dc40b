// @ambient-ts/node-agent: a stand-in for Istio's CNI node agent (facts §9.1, §9.3) — pod network namespaces with
// the in-pod iptables rules, handed to ztunnel over ZDS as a pods file changes.
export {
  DEFAULT_ZDS_PATH,
  NodeAgent,
  NodeAgentError,
  type ConnectionStatus,
  type NodeAgentErrorCode,
  type NodeAgentEvents,
  type NodeAgentOptions,
  type NodeAgentStatus,
  type PodState,
  type PodStatus,
} from './agent.ts';
export {
  defaultPodUid,
  parsePodsFile,
  PodsFileError,
  type ParseOptions,
  type PodSpec,
  type PodsFile,
  type PodsFileErrorCode,
  type PodsFileProblem,
} from './pods-file.ts';
export {
  encodeRequest,
  ZdsConnection,
  type AddRequest,
  type Logger,
  type RequestOutcome,
  type ZdsConnectionOptions,
  type ZdsPeer,
  type ZdsRequest,
} from './zds-connection.ts';
