// Command-line flags shared by the commands that translate YAML (validate now, serve later): the
// translation options, then the files.
import { ControlPlaneError } from './errors.ts';
import type { TranslateOptions } from './translate/model.ts';

export interface TranslateArgs {
  readonly options: TranslateOptions;
  readonly files: string[];
}

export const TRANSLATE_FLAGS_HELP = [
  '  --cluster-id=ID           cluster id in workload uids (default Kubernetes)',
  '  --trust-domain=TD         trust domain of identities (default cluster.local)',
  '  --root-namespace=NS       mesh root namespace (default istio-system)',
  '  --domain-suffix=SUFFIX    service hostname suffix (default cluster.local)',
  '  --network=NAME            network of workloads and VIPs (default "")',
  '  --waypoint-vip-range=CIDR allocate waypoint Service VIPs the Gateways do not give',
  '  --waypoint-pod-range=CIDR allocate waypoint pod IPs the Gateways do not give',
  '  --waypoint-node=NODE      node of waypoint pods the Gateways do not place',
];

/** Parse `--flag=value` / `--flag value` translation flags; everything else is a file. */
export function parseTranslateArgs(args: readonly string[]): TranslateArgs {
  const options: TranslateOptions = {};
  const waypoints: NonNullable<TranslateOptions['waypoints']> = {};
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      files.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new ControlPlaneError('USAGE', `--${flag} needs a value`);
    switch (flag) {
      case 'cluster-id':
        options.clusterId = value;
        break;
      case 'trust-domain':
        options.trustDomain = value;
        break;
      case 'root-namespace':
        options.rootNamespace = value;
        break;
      case 'domain-suffix':
        options.domainSuffix = value;
        break;
      case 'network':
        options.network = value;
        break;
      case 'waypoint-vip-range':
        waypoints.vipRange = value;
        break;
      case 'waypoint-pod-range':
        waypoints.podIpRange = value;
        break;
      case 'waypoint-node':
        waypoints.node = value;
        break;
      default:
        throw new ControlPlaneError('USAGE', `unknown flag --${flag}`);
    }
  }
  if (Object.keys(waypoints).length > 0) options.waypoints = waypoints;
  return { options, files };
}
