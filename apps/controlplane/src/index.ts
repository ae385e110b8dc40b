// apps/controlplane — Kubernetes-style YAML translated into the xDS resources istiod serves to ztunnels
// (Address, Authorization) and the objects waypoints need, plus the CA's node placement; and `serve`, which
// serves them over delta xDS next to the Istio CA like istiod does for ambient.
export { ControlPlaneError, type ControlPlaneErrorCode } from './errors.ts';
export { parseYaml, mergeLoads, type SourcedObject, type LoadResult } from './load/yaml-source.ts';
export { loadYamlFiles } from './load/files.ts';
export { translate, type Translation, type Resource, type AddressJson } from './translate/translate.ts';
export { resolveOptions, type TranslateOptions, type ResolvedOptions } from './translate/model.ts';
export { formatProblem, sortProblems, type Problem, type Severity, type SourceLocation } from './translate/problems.ts';
export { mayIssue, identityOf, type Placement, type WaypointPlacement } from './translate/placement.ts';
export { L7_TYPE_URL } from './translate/l7.ts';
export type { SkippedObject } from './translate/collect.ts';
export { parseTranslateArgs, TRANSLATE_FLAGS_HELP, type TranslateArgs } from './cli-options.ts';
export { commands, main, usage, type Command } from './cli.ts';
export { runValidate, summarize, type Output } from './validate.ts';

// serve
export { startControlPlane } from './serve/control-plane.ts';
export type { RunningControlPlane, ServedConfig, UpdateOutcome } from './serve/types.ts';
export {
  parseServeArgs,
  resolveServeOptions,
  DEFAULT_PLAINTEXT_PORT,
  DEFAULT_TLS_PORT,
  DEFAULT_STATE_DIR,
  SERVE_FLAGS_HELP,
  type ServeOptions,
  type ServeArgs,
} from './serve/options.ts';
export type { TypeChange } from './serve/resources.ts';
export { STATE_FILES } from './serve/state-dir.ts';
export { waypointTokenFile } from './serve/tokens.ts';
export { SERVER_DNS_NAMES, SERVER_IPS } from './serve/servers.ts';
export { runServe, startupSummary } from './serve/command.ts';

/** Type URLs of what the translation produces, as ztunnel and waypoints subscribe to them. */
export const ADDRESS_TYPE_URL = 'type.googleapis.com/istio.workload.Address';
export const AUTHORIZATION_TYPE_URL = 'type.googleapis.com/istio.security.Authorization';
