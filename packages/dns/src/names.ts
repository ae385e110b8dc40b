// Name handling from the client pod's point of view (ztunnel src/dns/server.rs): Kubernetes expansions,
// search-domain stripping and wildcard candidates. Pure functions over lower-case names without the
// trailing dot.

/** Lower-case, without the trailing dot ("" is the root). */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function labelCount(name: string): number {
  return name === '' ? 0 : name.split('.').length;
}

function lastLabel(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(dot + 1);
}

/**
 * The Kubernetes FQDNs a short name can stand for, from a client in `namespace` (facts §10):
 * 1 label → `<name>.<ns>.svc.<domain>`; 2 → `<a>.<b>.svc.<domain>`, `<a>.<b>.<ns>.svc.<domain>`;
 * 3 ending in `svc` → `+.<domain>`; 3 → `<a>.<b>.<c>.svc.<domain>`; 4 ending in `svc` → `+.<domain>`.
 */
export function kubernetesExpansions(name: string, namespace: string, clusterDomain: string): string[] {
  const svcDomain = `svc.${clusterDomain}`;
  const namespaced = `${namespace}.${svcDomain}`;
  switch (labelCount(name)) {
    case 1:
      return [`${name}.${namespaced}`];
    case 2:
      return [`${name}.${svcDomain}`, `${name}.${namespaced}`];
    case 3:
      return lastLabel(name) === 'svc'
        ? [`${name}.${clusterDomain}`, `${name}.${svcDomain}`]
        : [`${name}.${svcDomain}`];
    case 4:
      return lastLabel(name) === 'svc' ? [`${name}.${clusterDomain}`] : [];
    default:
      return [];
  }
}

/** `name` without the `domain` suffix, or undefined when it does not end in `.domain`. */
export function trimDomain(name: string, domain: string): string | undefined {
  if (domain === '' || !name.endsWith(`.${domain}`)) return undefined;
  return name.slice(0, -(domain.length + 1));
}

/** The name itself, then `*.` over each shorter suffix: a.b.c → a.b.c, *.b.c, *.c. */
export function wildcardCandidates(name: string): string[] {
  const out = [name];
  let rest = name;
  for (let dot = rest.indexOf('.'); dot >= 0; dot = rest.indexOf('.')) {
    out.push(`*.${rest.slice(dot + 1)}`);
    rest = rest.slice(dot + 1);
  }
  return out;
}

/** One name to look up, and the name it was stripped to when a search domain was removed. */
export interface Alias {
  readonly name: string;
  readonly stripped?: string;
}

/**
 * Every name a query may mean, in ztunnel's order, without repeats: the name, its Kubernetes expansions,
 * then for each search domain it ends in, the stripped name and that one's expansions.
 */
export function aliases(
  requested: string,
  namespace: string,
  clusterDomain: string,
  searchDomains: readonly string[],
): Alias[] {
  const name = normalizeName(requested);
  const out: Alias[] = [];
  const seen = new Set<string>();
  const add = (alias: Alias): void => {
    if (seen.has(alias.name)) return;
    seen.add(alias.name);
    out.push(alias);
  };
  add({ name });
  for (const expansion of kubernetesExpansions(name, namespace, clusterDomain)) add({ name: expansion });
  for (const domain of searchDomains) {
    const stripped = trimDomain(name, normalizeName(domain));
    if (stripped === undefined) continue;
    add({ name: stripped, stripped });
    for (const expansion of kubernetesExpansions(stripped, namespace, clusterDomain)) {
      add({ name: expansion, stripped });
    }
  }
  return out;
}

/** The per-pod search list ztunnel assumes in shared mode: `<ns>.svc.<domain>`, `svc.<domain>`, `<domain>`. */
export function podSearchDomains(namespace: string, clusterDomain: string): string[] {
  return [`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain];
}
