import { describe, expect, it } from 'vitest';
import { clientOf, meshStore } from '../test/mesh-fixture.ts';
import { aliases, kubernetesExpansions, podSearchDomains, trimDomain, wildcardCandidates } from './names.ts';
import { pickService, resolveMesh, type MeshResolverOptions } from './resolver.ts';
import type { Service } from '@ambient-ts/discovery';

const options: MeshResolverOptions = {
  clusterDomain: 'cluster.local',
  preferredNamespace: 'preferred-ns',
  ipv6Enabled: true,
};
const search = podSearchDomains('ns1', 'cluster.local');

describe('Kubernetes name expansions (client in ns1)', () => {
  it.each([
    ['name', ['name.ns1.svc.cluster.local']],
    ['name.ns2', ['name.ns2.svc.cluster.local', 'name.ns2.ns1.svc.cluster.local']],
    ['name.ns2.svc', ['name.ns2.svc.cluster.local', 'name.ns2.svc.svc.cluster.local']],
    ['name.ns2.not-svc', ['name.ns2.not-svc.svc.cluster.local']],
    ['pod.sub-domain.ns.svc', ['pod.sub-domain.ns.svc.cluster.local']],
    ['pod.sub-domain.ns.not-svc', []],
    ['name.ns2.svc.cluster', []],
    ['name.ns2.svc.cluster.local', []],
    ['www.google.com', ['www.google.com.svc.cluster.local']],
  ])('%s → %j', (host, expected) => {
    expect(kubernetesExpansions(host, 'ns1', 'cluster.local')).toEqual(expected);
  });

  it('wildcards go from the name to *.<tld>', () => {
    expect(wildcardCandidates('svc1')).toEqual(['svc1']);
    expect(wildcardCandidates('svc1.ns1.svc.cluster.local')).toEqual([
      'svc1.ns1.svc.cluster.local',
      '*.ns1.svc.cluster.local',
      '*.svc.cluster.local',
      '*.cluster.local',
      '*.local',
    ]);
  });

  it('search domains are stripped only as whole suffixes; aliases keep what they were stripped to, without repeats', () => {
    expect(trimDomain('a.ns1.svc.cluster.local', 'ns1.svc.cluster.local')).toBe('a');
    expect(trimDomain('xns1.svc.cluster.local', 'ns1.svc.cluster.local')).toBeUndefined();
    expect(trimDomain('ns1.svc.cluster.local', 'ns1.svc.cluster.local')).toBeUndefined();
    expect(aliases('Productpage.NS1.svc.cluster.local.', 'ns1', 'cluster.local', search)).toEqual([
      { name: 'productpage.ns1.svc.cluster.local' },
      { name: 'productpage', stripped: 'productpage' },
      { name: 'productpage.ns1', stripped: 'productpage.ns1' },
      { name: 'productpage.ns1.ns1.svc.cluster.local', stripped: 'productpage.ns1' },
      { name: 'productpage.ns1.svc', stripped: 'productpage.ns1.svc' },
      { name: 'productpage.ns1.svc.svc.cluster.local', stripped: 'productpage.ns1.svc' },
    ]);
  });
});

interface Case {
  name: string;
  host: string;
  type?: 'A' | 'AAAA' | 'NS' | 'TXT';
  /** undefined: forwarded */
  answers?: string[];
  ipv6Enabled?: boolean;
}

const cases: Case[] = [
  { name: 'unsupported record type is forwarded', host: 'productpage.ns1', type: 'NS' },
  { name: 'TXT is forwarded even for a mesh name', host: 'productpage.ns1.svc.cluster.local', type: 'TXT' },
  { name: 'non-k8s host in the mesh', host: 'www.google.com', answers: ['A www.google.com 1.1.1.1'] },
  {
    name: 'non-k8s host with the search namespace yields CNAME + A',
    host: 'www.google.com.ns1.svc.cluster.local',
    answers: ['CNAME www.google.com.ns1.svc.cluster.local www.google.com', 'A www.google.com 1.1.1.1'],
  },
  { name: 'unknown non-k8s host is forwarded', host: 'www.bing.com' },
  {
    name: 'k8s fqdn',
    host: 'productpage.ns1.svc.cluster.local',
    answers: ['A productpage.ns1.svc.cluster.local 9.9.9.9'],
  },
  { name: 'k8s name.namespace', host: 'productpage.ns1', answers: ['A productpage.ns1 9.9.9.9'] },
  { name: 'k8s short name in the client namespace', host: 'productpage', answers: ['A productpage 9.9.9.9'] },
  { name: 'the answer keeps the case asked', host: 'ProductPage', answers: ['A ProductPage 9.9.9.9'] },
  {
    name: 'name.namespace with the search namespace yields CNAME + A',
    host: 'productpage.ns1.ns1.svc.cluster.local',
    answers: ['CNAME productpage.ns1.ns1.svc.cluster.local productpage.ns1', 'A productpage.ns1 9.9.9.9'],
  },
  {
    name: 'AAAA of an IPv4-only VIP: empty NOERROR',
    host: 'productpage.ns1.ns1.svc.cluster.local',
    type: 'AAAA',
    answers: [],
  },
  { name: 'other namespace: name.namespace', host: 'example.ns2', answers: ['A example.ns2 10.10.10.10'] },
  {
    name: 'other namespace: fqdn',
    host: 'example.ns2.svc.cluster.local',
    answers: ['A example.ns2.svc.cluster.local 10.10.10.10'],
  },
  { name: 'other namespace: name.namespace.svc', host: 'example.ns2.svc', answers: ['A example.ns2.svc 10.10.10.10'] },
  { name: 'other namespace: a short name is not expanded there (forwarded)', host: 'example' },
  {
    name: 'another cluster domain, fqdn: every VIP',
    host: 'details.ns2.svc.cluster.remote',
    answers: [11, 12, 13, 14].map((n) => `A details.ns2.svc.cluster.remote ${n}.${n}.${n}.${n}`),
  },
  { name: 'another cluster domain is not an expansion of name.namespace', host: 'details.ns2' },
  { name: 'A returns A records only', host: 'dual.localhost', answers: ['A dual.localhost 2.2.2.2'] },
  {
    name: 'AAAA returns AAAA records only',
    host: 'dual.localhost',
    type: 'AAAA',
    answers: ['AAAA dual.localhost 2001:db8::ff00:42:8329'],
  },
  { name: 'A of an IPv6-only service: empty NOERROR, not NXDOMAIN', host: 'ipv6.localhost', answers: [] },
  { name: 'AAAA of an IPv4-only service: empty NOERROR', host: 'ipv4.localhost', type: 'AAAA', answers: [] },
  {
    name: 'ip_families IPv4 blocks AAAA though a v6 VIP exists',
    host: 'v4only.ns1.svc.cluster.local',
    type: 'AAAA',
    answers: [],
  },
  {
    name: 'ip_families IPv4 still answers A',
    host: 'v4only.ns1.svc.cluster.local',
    answers: ['A v4only.ns1.svc.cluster.local 2.2.2.4'],
  },
  { name: 'IPV6_ENABLED=false: AAAA is empty', host: 'dual.localhost', type: 'AAAA', answers: [], ipv6Enabled: false },
  { name: 'wildcard', host: 'foo.wildcard', answers: ['A foo.wildcard 10.10.10.10'] },
  { name: 'the most specific wildcard wins', host: 'a.b.wildcard', answers: ['A a.b.wildcard 11.11.11.11'] },
  {
    name: 'wildcard with a domain',
    host: 'foo.svc.mesh.company.net',
    answers: ['A foo.svc.mesh.company.net 10.1.2.3'],
  },
  {
    name: 'wildcard with a namespace and a domain',
    host: 'foo.foons.svc.mesh.company.net',
    answers: ['A foo.foons.svc.mesh.company.net 10.1.2.3'],
  },
  {
    name: 'wildcard found through a search domain: no CNAME (the wildcard is not a name)',
    host: 'foo.svc.mesh.company.net.ns1.svc.cluster.local',
    answers: ['A foo.svc.mesh.company.net.ns1.svc.cluster.local 10.1.2.3'],
  },
  { name: 'no VIP on the client network: empty NOERROR', host: 'nw2-only.ns1.svc.cluster.local', answers: [] },
  {
    name: 'only the VIP on the client network',
    host: 'both-networks.ns1.svc.cluster.local',
    answers: ['A both-networks.ns1.svc.cluster.local 21.21.21.21'],
  },
  {
    name: 'headless: one A per healthy endpoint',
    host: 'headless.ns1.svc.cluster.local',
    answers: ['A headless.ns1.svc.cluster.local 30.30.30.30', 'A headless.ns1.svc.cluster.local 31.31.31.31'],
  },
  {
    name: 'headless: one AAAA per endpoint',
    host: 'headless.ns1.svc.cluster.local',
    type: 'AAAA',
    answers: ['AAAA headless.ns1.svc.cluster.local 2001:db8::30', 'AAAA headless.ns1.svc.cluster.local 2001:db8::31'],
  },
  { name: 'headless short name', host: 'headless', answers: ['A headless 30.30.30.30', 'A headless 31.31.31.31'] },
  {
    name: 'headless IPv6 family: AAAA answered',
    host: 'headless-ipv6.ns1.svc.cluster.local',
    type: 'AAAA',
    answers: ['AAAA headless-ipv6.ns1.svc.cluster.local 2001:db8::33'],
  },
  {
    name: 'headless IPv6 family: A is empty (the pod has an IPv4 too)',
    host: 'headless-ipv6.ns1.svc.cluster.local',
    answers: [],
  },
  {
    name: 'pod hostname of a headless service is not answered (forwarded, as ztunnel)',
    host: 'h0.headless.ns1.svc.cluster.local',
  },
  { name: 'headless outside .svc.<domain> is forwarded', host: 'headless.example.com' },
  {
    name: 'preferred namespace when none in the client namespace',
    host: 'preferred.io',
    answers: ['A preferred.io 10.10.10.211'],
  },
  { name: "the client's namespace first", host: 'everywhere.io', answers: ['A everywhere.io 10.10.10.112'] },
  {
    name: 'canonical before the preferred namespace',
    host: 'canonical.svc',
    answers: ['A canonical.svc 10.10.10.141'],
  },
  {
    name: "the client's namespace before canonical",
    host: 'canonical.with.local',
    answers: ['A canonical.with.local 10.10.10.150'],
  },
  {
    name: 'a Namespace-visibility service of another namespace is not visible (forwarded)',
    host: 'private.ns2.svc.cluster.local',
  },
  {
    name: 'a trailing dot is the same name',
    host: 'productpage.ns1.svc.cluster.local.',
    answers: ['A productpage.ns1.svc.cluster.local. 9.9.9.9'],
  },
];

describe('resolveMesh (ztunnel server.rs lookup cases)', () => {
  const store = meshStore();
  const client = clientOf(store);
  it.each(cases)('$name', ({ host, type = 'A', answers, ipv6Enabled = true }) => {
    const resolution = resolveMesh(store, client, { name: host, type }, search, { ...options, ipv6Enabled });
    if (answers === undefined) {
      expect(resolution.kind).toBe('forward');
      return;
    }
    expect(resolution.kind).toBe('answer');
    if (resolution.kind !== 'answer') return;
    const rendered = resolution.records.map((record) =>
      record.type === 'CNAME'
        ? `CNAME ${record.name} ${record.target}`
        : `${record.type} ${record.name} ${record.address}`,
    );
    // addresses are shuffled: compare the CNAME in place and the addresses as a set
    expect(rendered.filter((line) => line.startsWith('CNAME'))).toEqual(
      answers.filter((line) => line.startsWith('CNAME')),
    );
    if (rendered[0]?.startsWith('CNAME')) expect(rendered[0]).toBe(answers[0]);
    expect(rendered.filter((line) => !line.startsWith('CNAME')).sort()).toEqual(
      answers.filter((line) => !line.startsWith('CNAME')).sort(),
    );
    for (const record of resolution.records) expect(record.ttl).toBe(30);
  });

  it('addresses are shuffled: every order of four VIPs shows up', () => {
    const orders = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const resolution = resolveMesh(
        store,
        client,
        { name: 'details.ns2.svc.cluster.remote', type: 'A' },
        search,
        options,
      );
      if (resolution.kind === 'answer')
        orders.add(resolution.records.map((r) => (r.type === 'A' ? r.address : '')).join(','));
    }
    expect(orders.size).toBe(24);
  });

  it('the shuffle takes an injected random source (a fixed one gives a fixed order)', () => {
    const fixed = { ...options, random: () => 0 };
    const first = resolveMesh(store, client, { name: 'details.ns2.svc.cluster.remote', type: 'A' }, search, fixed);
    const second = resolveMesh(store, client, { name: 'details.ns2.svc.cluster.remote', type: 'A' }, search, fixed);
    expect(first).toEqual(second);
  });

  it('a client on another network sees that network’s VIPs', () => {
    const resolution = resolveMesh(
      store,
      { namespace: 'ns1', network: 'nw2' },
      { name: 'both-networks', type: 'A' },
      search,
      options,
    );
    expect(resolution.kind === 'answer' && resolution.records.map((r) => (r.type === 'A' ? r.address : ''))).toEqual([
      '21.21.21.22',
    ]);
  });

  it('the owning namespace sees its Namespace-visibility service', () => {
    const resolution = resolveMesh(
      store,
      { namespace: 'ns2', network: 'nw1' },
      { name: 'private', type: 'A' },
      podSearchDomains('ns2', 'cluster.local'),
      options,
    );
    expect(resolution.kind === 'answer' && resolution.records.length).toBe(1);
  });

  it('dedicated mode strips the search list it is given (resolv.conf), not the pod one', () => {
    const resolution = resolveMesh(
      store,
      client,
      { name: 'productpage.corp.example', type: 'A' },
      ['corp.example'],
      options,
    );
    expect(resolution.kind === 'answer' && resolution.records[0]).toEqual({
      type: 'CNAME',
      name: 'productpage.corp.example',
      target: 'productpage',
      ttl: 30,
    });
  });
});

describe('pickService', () => {
  const svc = (namespace: string, canonical = false) => ({ namespace, canonical }) as Service;
  it.each([
    ['client namespace first', [svc('a', true), svc('ns1')], 'ns1'],
    ['then canonical', [svc('a'), svc('b', true), svc('preferred')], 'b'],
    ['then the preferred namespace', [svc('a'), svc('preferred')], 'preferred'],
    ['else the first', [svc('a'), svc('b')], 'a'],
  ])('%s', (_name, services, expected) => {
    expect(pickService(services, 'ns1', 'preferred')?.namespace).toBe(expected);
  });
  it('none: undefined', () => expect(pickService([], 'ns1')).toBeUndefined());
});
