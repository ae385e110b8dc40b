// The parts AuthorizationPolicy and RequestAuthentication share: metadata, dry-run, selector/targetRefs.
import type { Attachment, TargetRef } from './model.ts';
import { policyKey } from './model.ts';
import { describe, isRecord, Problems, type Path } from './problems.ts';

export interface Fatal {
  readonly path: Path;
  readonly message: string;
}

export interface Metadata {
  readonly name: string;
  readonly namespace: string;
  readonly dryRun: boolean;
  readonly problems: Problems;
  /** Problems that make the whole object untrustworthy (the caller applies its fail-safe). */
  readonly fatal: Fatal[];
}

export function readMetadata(input: unknown, kind: string, defaultNamespace: string): Metadata {
  const fatal: Fatal[] = [];
  if (!isRecord(input)) {
    const problems = new Problems(`${defaultNamespace}/<unnamed>`);
    fatal.push({ path: [], message: `expected a ${kind} object, found ${describe(input)}` });
    return { name: '<unnamed>', namespace: defaultNamespace, dryRun: false, problems, fatal };
  }
  const metadata = isRecord(input['metadata']) ? input['metadata'] : {};
  const rawName = metadata['name'];
  const name = typeof rawName === 'string' && rawName !== '' ? rawName : '<unnamed>';
  const rawNamespace = metadata['namespace'];
  const namespace = typeof rawNamespace === 'string' && rawNamespace !== '' ? rawNamespace : defaultNamespace;
  const problems = new Problems(policyKey(namespace, name));
  if (name === '<unnamed>')
    fatal.push({ path: ['metadata', 'name'], message: '`metadata.name` must be a non-empty string' });
  if (rawNamespace !== undefined && typeof rawNamespace !== 'string') {
    fatal.push({
      path: ['metadata', 'namespace'],
      message: `\`metadata.namespace\` must be a string, found ${describe(rawNamespace)}`,
    });
  }
  if (input['kind'] !== undefined && input['kind'] !== kind) {
    fatal.push({ path: ['kind'], message: `expected kind ${kind}, found ${describe(input['kind'])}` });
  }
  const apiVersion = input['apiVersion'];
  if (apiVersion !== undefined) {
    if (typeof apiVersion !== 'string' || !apiVersion.startsWith('security.istio.io/')) {
      fatal.push({
        path: ['apiVersion'],
        message: `expected apiVersion security.istio.io/v1, found ${describe(apiVersion)}`,
      });
    } else if (!['security.istio.io/v1', 'security.istio.io/v1beta1'].includes(apiVersion)) {
      problems.warn(['apiVersion'], `unexpected version ${JSON.stringify(apiVersion)}; read as security.istio.io/v1`);
    }
  }
  let dryRun = false;
  const annotations = isRecord(metadata['annotations']) ? metadata['annotations'] : {};
  const rawDryRun = annotations['istio.io/dry-run'];
  if (rawDryRun !== undefined) {
    if (rawDryRun === 'true' || rawDryRun === true) dryRun = true;
    else if (rawDryRun !== 'false' && rawDryRun !== false) {
      problems.warn(
        ['metadata', 'annotations', 'istio.io/dry-run'],
        `expected "true" or "false", found ${describe(rawDryRun)}`,
        'the policy is enforced (not dry-run)',
      );
    }
  }
  return { name, namespace, dryRun, problems, fatal };
}

const allowedTargets: readonly { group: string; kind: string }[] = [
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
  { group: 'core', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
];

function readTargetRef(raw: unknown, path: Path, namespace: string, fatal: Fatal[]): TargetRef | undefined {
  if (!isRecord(raw)) {
    fatal.push({ path, message: `a target reference must be an object, found ${describe(raw)}` });
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!['group', 'kind', 'name', 'namespace'].includes(key))
      fatal.push({ path: [...path, key], message: `unknown field ${JSON.stringify(key)}` });
  }
  const group = raw['group'] ?? '';
  const kind = raw['kind'];
  const name = raw['name'];
  if (typeof group !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || name === '') {
    fatal.push({ path, message: 'a target reference needs string `group`, `kind` and a non-empty `name`' });
    return undefined;
  }
  const canonical = group === '' ? 'core' : group;
  if (!allowedTargets.some((target) => target.group === canonical && target.kind === kind)) {
    fatal.push({
      path,
      message: `targetRef must be a Gateway, GatewayClass, Service or ServiceEntry, found ${group}/${kind}`,
    });
    return undefined;
  }
  const refNamespace = raw['namespace'];
  if (refNamespace !== undefined && refNamespace !== '' && refNamespace !== namespace) {
    fatal.push({
      path: [...path, 'namespace'],
      message: `cross-namespace targetRef (${String(refNamespace)}) is not supported`,
    });
    return undefined;
  }
  return {
    group: canonical === 'core' ? '' : canonical,
    kind,
    name,
    ...(typeof refNamespace === 'string' && refNamespace !== '' && { namespace: refNamespace }),
  };
}

function readSelector(raw: unknown, fatal: Fatal[], problems: Problems): Record<string, string> | undefined {
  if (!isRecord(raw)) {
    fatal.push({ path: ['spec', 'selector'], message: `\`selector\` must be an object, found ${describe(raw)}` });
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'matchLabels')
      fatal.push({
        path: ['spec', 'selector', key],
        message: `unknown field ${JSON.stringify(key)} (only matchLabels is supported)`,
      });
  }
  const labels = raw['matchLabels'] ?? {};
  if (!isRecord(labels)) {
    fatal.push({
      path: ['spec', 'selector', 'matchLabels'],
      message: `\`matchLabels\` must be a map of strings, found ${describe(labels)}`,
    });
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const path = ['spec', 'selector', 'matchLabels', key];
    if (typeof value !== 'string')
      fatal.push({ path, message: `label values must be strings, found ${describe(value)}` });
    else if (key === '' || key.includes('*') || value.includes('*'))
      fatal.push({ path, message: 'empty keys and wildcards are not supported in selectors' });
    else out[key] = value;
  }
  if (Object.keys(labels).length === 0)
    problems.warn(
      ['spec', 'selector'],
      'workload selector specified without labels: it selects every workload in the namespace',
    );
  return out;
}

/** selector / targetRef / targetRefs → Attachment. A broken selector widens to the namespace (fail closed). */
export function readTargetAttachment(
  spec: Record<string, unknown>,
  namespace: string,
  problems: Problems,
): { attachment: Attachment; fatal: Fatal[] } {
  const fatal: Fatal[] = [];
  const refs: TargetRef[] = [];
  let hasRefs = false;
  if (spec['targetRef'] !== undefined && spec['targetRef'] !== null) {
    hasRefs = true;
    problems.warn(['spec', 'targetRef'], '`targetRef` is deprecated; use `targetRefs`');
    const ref = readTargetRef(spec['targetRef'], ['spec', 'targetRef'], namespace, fatal);
    if (ref) refs.push(ref);
  }
  const rawRefs = spec['targetRefs'];
  if (rawRefs !== undefined && rawRefs !== null) {
    if (!Array.isArray(rawRefs))
      fatal.push({
        path: ['spec', 'targetRefs'],
        message: `\`targetRefs\` must be a list, found ${describe(rawRefs)}`,
      });
    else {
      if (rawRefs.length > 16)
        fatal.push({ path: ['spec', 'targetRefs'], message: 'at most 16 targetRefs are allowed' });
      if (rawRefs.length > 0) hasRefs = true;
      rawRefs.forEach((raw: unknown, index) => {
        const ref = readTargetRef(raw, ['spec', 'targetRefs', index], namespace, fatal);
        if (ref) refs.push(ref);
      });
    }
  }
  const hasSelector = spec['selector'] !== undefined && spec['selector'] !== null;
  if (hasRefs && hasSelector)
    fatal.push({ path: ['spec', 'selector'], message: 'only one of targetRefs or selector can be set' });
  if (hasRefs) return { attachment: { kind: 'targetRefs', targetRefs: refs }, fatal };
  if (hasSelector) {
    const before = fatal.length;
    const matchLabels = readSelector(spec['selector'], fatal, problems);
    if (matchLabels && fatal.length === before) return { attachment: { kind: 'selector', matchLabels }, fatal };
    return { attachment: { kind: 'namespace' }, fatal };
  }
  return { attachment: { kind: 'namespace' }, fatal };
}
