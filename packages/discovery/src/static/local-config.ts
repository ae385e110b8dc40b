// Istio ztunnel's LocalConfig YAML (LOCAL_XDS_PATH / LOCAL_XDS): workloads, services, policies.
import { readFile } from 'node:fs/promises';
import { DiscoveryError, errorMessage } from '../errors.ts';
import type { AuthorizationPolicy } from '@ambient-ts/policy';
import type { Service, Workload } from '../model.ts';
import type { DiscoveryStore } from '../store/store.ts';
import type { StoreChange } from '../store/types.ts';
import { localPolicy } from './local-policy.ts';
import { localService, localWorkload } from './local-workload.ts';
import { YamlCursor } from './yaml-cursor.ts';

export interface LocalConfig {
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  /** converted like xDS policies (a policy that cannot be converted is its fail-closed stand-in) */
  readonly policies: readonly AuthorizationPolicy[];
}

/** Parse LocalConfig text; errors are DiscoveryError STATIC_CONFIG_INVALID naming file:line:col and field. */
export function parseLocalConfig(text: string, file = '<inline>'): LocalConfig {
  const root = YamlCursor.parse(text, file);
  const top = root.map(['workloads', 'policies', 'services']);
  return {
    workloads: (top.get('workloads')?.list() ?? []).map(localWorkload),
    services: (top.get('services')?.list() ?? []).map(localService),
    policies: (top.get('policies')?.list() ?? []).map(localPolicy),
  };
}

export async function loadLocalConfigFile(path: string): Promise<LocalConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DiscoveryError('STATIC_CONFIG_READ', `cannot read local config ${path}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return parseLocalConfig(text, path);
}

/** Put a LocalConfig into the store as one update. */
export function applyLocalConfig(store: DiscoveryStore, config: LocalConfig): StoreChange {
  return store.apply({ workloads: config.workloads, services: config.services, policies: config.policies });
}
