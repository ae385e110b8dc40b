// LOCAL_XDS_PATH / LOCAL_XDS for the waypoint: multi-document YAML where documents without `kind` are
// ztunnel's LocalConfig (workloads, services, policies) and documents with `kind` are the L7 objects
// (AuthorizationPolicy, RequestAuthentication, HTTPRoute, Gateway) a control plane would send.
import { readFile } from 'node:fs/promises';
import { parseLocalConfig, type LocalConfig } from '@ambient-ts/discovery';
import { parseAllDocuments } from 'yaml';
import { WaypointError } from '../errors.ts';

export interface LocalFile {
  readonly config: LocalConfig;
  /** `Kind/namespace/name` and the object, in file order. */
  readonly l7: { name: string; json: unknown }[];
}

function lineOf(text: string, offset: number): number {
  let lines = 0;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) lines++;
  return lines;
}

export function parseLocalFile(text: string, file: string): LocalFile {
  const workloads: LocalConfig['workloads'][number][] = [];
  const services: LocalConfig['services'][number][] = [];
  const policies: LocalConfig['policies'][number][] = [];
  const l7: { name: string; json: unknown }[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) {
      const error = doc.errors[0]!;
      const line = error.linePos?.[0].line;
      throw new WaypointError('LOCAL_CONFIG_INVALID', `${file}${line ? `:${line}` : ''}: ${error.message}`);
    }
    const json = doc.toJS() as unknown;
    if (json === null || json === undefined) continue;
    if (typeof json === 'object' && !Array.isArray(json) && 'kind' in json) {
      const record = json as { kind: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      const namespace = typeof record.metadata?.namespace === 'string' ? record.metadata.namespace : 'default';
      l7.push({ name: `${String(record.kind)}/${namespace}/${String(record.metadata?.name ?? '')}`, json });
      continue;
    }
    // Keep line numbers of the whole file in LocalConfig errors.
    const [start, , end] = doc.range;
    const slice = '\n'.repeat(lineOf(text, start)) + text.slice(start, end);
    try {
      const config = parseLocalConfig(slice, file);
      workloads.push(...config.workloads);
      services.push(...config.services);
      policies.push(...config.policies);
    } catch (error) {
      throw new WaypointError('LOCAL_CONFIG_INVALID', (error as Error).message, { cause: error });
    }
  }
  return { config: { workloads, services, policies }, l7 };
}

export async function loadLocalFile(path: string): Promise<LocalFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new WaypointError('LOCAL_CONFIG_INVALID', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseLocalFile(text, path);
}
