// @ambient-ts/runtime — the process shell ambient proxies share: typed environment parsing, the drain
// lifecycle state machine, and bearer-token sources.
// Every environment parser is public: EnvError, Env, HostPort, parse* and read/withPrefix.
export * from './env.ts';
export { Lifecycle, type DrainSteps, type LifecycleState } from './lifecycle.ts';
export { tokenSource } from './token.ts';
export { BindError, listen } from './listen.ts';
export {
  controlPlaneVariables,
  readControlPlane,
  type ControlPlaneConfig,
  type ControlPlaneNeeds,
} from './control-plane-env.ts';
export {
  operatorVariables,
  readOperator,
  type LogFormat,
  type OperatorConfig,
  type OperatorDefaults,
} from './operator-env.ts';
export { runProxyCommand, type CommandIo, type ProxyCommand } from './command.ts';
export {
  controlPlaneAddress,
  formatHelp,
  redactConfig,
  terminationDeadline,
  type SecretBearingConfig,
  type VariableHelp,
} from './proxy-env.ts';
