// What startControlPlane hands back, and what an update of the served YAML came to.
import type { Caller } from '@ambient-ts/ca';
import type { DeltaXdsServer } from '@ambient-ts/xds';
import type { Problem } from '../translate/problems.ts';
import type { Translation } from '../translate/translate.ts';
import type { TypeChange } from './resources.ts';

export type UpdateOutcome =
  | {
      readonly kind: 'accepted';
      readonly version: number;
      readonly changes: readonly TypeChange[];
      readonly problems: readonly Problem[];
    }
  | { readonly kind: 'unchanged'; readonly version: number; readonly problems: readonly Problem[] }
  /** `version` is the config still served. */
  | {
      readonly kind: 'refused';
      readonly version: number;
      readonly errors: number;
      readonly problems: readonly Problem[];
    };

export interface ServedConfig {
  readonly version: number;
  readonly files: readonly string[];
  readonly translation: Translation;
  readonly acceptedAt: Date;
}

export interface RunningControlPlane {
  readonly host: string;
  readonly ports: { readonly plaintext: number; readonly tls: number };
  /** `http://host:port` / `https://host:port`, for XDS_ADDRESS / CA_ADDRESS. */
  readonly addresses: { readonly plaintext: string; readonly tls: string };
  readonly stateDir: string;
  readonly rootCertPem: string;
  /** `<stateDir>/root-cert.pem` (XDS_ROOT_CA / CA_ROOT_CA). */
  readonly rootCertPath: string;
  /** The CA root was created by this start (rather than reused from the state directory). */
  readonly caCreated: boolean;
  /** DNS names and IPs of the TLS port's certificate. */
  readonly serverNames: { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] };
  /** Files and directories watched (0 without watch). */
  readonly watching: number;
  readonly xds: DeltaXdsServer<Caller>;
  served(): ServedConfig;
  /** The current token of a node's ztunnel (also in `<stateDir>/tokens/<node>`). */
  tokenFor(node: string): string | undefined;
  /** The current token of a waypoint (also in `<stateDir>/tokens/waypoint-<ns>-<name>`). */
  waypointTokenFor(namespace: string, name: string): string | undefined;
  /** Path of a token file under tokens/ (`node`, or `waypoint-<ns>-<name>`). */
  tokenPath(file: string): string;
  /** Every token written: node and waypoint tokens with their paths. */
  tokens(): { kind: 'node' | 'waypoint'; key: string; path: string }[];
  /** Re-read and re-translate the YAML now (the watcher does this on edits). */
  update(): Promise<UpdateOutcome>;
  onUpdate(listener: (outcome: UpdateOutcome) => void): () => void;
  close(): Promise<void>;
}
