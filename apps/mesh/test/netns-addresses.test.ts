// Netns mode's one address mapping: loopback pod IPs and VIPs of the mesh YAML become topology addresses, in
// place (every line keeps its number), and what cannot be mapped is said.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { podAddress, translateForNetns, vipAddress } from '../src/netns-addresses.ts';

const nodes = new Map([
  ['node-a', 2],
  ['node-b', 3],
]);
const host = '172.172.0.254';

describe('translateForNetns', () => {
  it('maps examples/mesh.yaml: pods to 10.0.<node>.<z+1>, VIPs to 10.96.y.z, the JWKS to the host link', () => {
    const file = join(import.meta.dirname, '../../../examples/mesh.yaml');
    const text = readFileSync(file, 'utf8');
    const result = translateForNetns(text, 'mesh.yaml', nodes, host);
    expect(result.problems).toEqual([]);
    expect(Object.fromEntries(result.mapped)).toEqual({
      '127.0.1.1': '10.0.2.2', // echo-v1, node-a
      '127.0.1.2': '10.0.2.3', // client
      '127.0.1.3': '10.0.2.4', // blocked-client
      '127.0.2.1': '10.0.3.2', // echo-v2, node-b
      '127.0.2.2': '10.0.3.3', // outside-client
      '127.0.2.10': '10.0.3.11', // the waypoint's pod
      '127.10.0.1': '10.96.0.1',
      '127.10.0.2': '10.96.0.2',
      '127.10.0.10': '10.96.0.10',
    });
    const before = text.split('\n');
    const after = result.text.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = before.flatMap((line, index) => (line === after[index] ? [] : [`${line} => ${after[index]}`]));
    expect(changed).toHaveLength(10);
    expect(changed).toContain('  podIP: 127.0.1.1 =>   podIP: 10.0.2.2');
    expect(changed).toContain(
      '      jwksUri: http://127.0.0.1:15099/.well-known/jwks.json =>       jwksUri: http://172.172.0.254:15099/.well-known/jwks.json',
    );
    // The comments mentioning loopback addresses are left alone: only scalars change.
    expect(result.text).toContain('node-a pods 127.0.1.x, node-b pods 127.0.2.x, VIPs 127.10.0.x');
  });

  it('rewrites every mention of a mapped address (policies too), keeps quotes and other addresses', () => {
    const text = [
      'kind: Pod',
      'metadata: {name: a}',
      'spec: {nodeName: node-b}',
      'status: {podIP: "127.0.5.7", podIPs: [{ip: "127.0.5.7"}]}',
      '---',
      'kind: AuthorizationPolicy',
      'metadata: {name: p}',
      "spec: {rules: [{from: [{source: {ipBlocks: ['127.0.5.7/32', 192.0.2.1]}}]}]}",
      '---',
      'kind: Service',
      'metadata: {name: s}',
      'spec: {clusterIP: 10.9.8.7}',
    ].join('\n');
    const result = translateForNetns(text, 'f.yaml', nodes, host);
    expect(result.text.split('\n')).toEqual([
      'kind: Pod',
      'metadata: {name: a}',
      'spec: {nodeName: node-b}',
      'status: {podIP: "10.0.3.8", podIPs: [{ip: "10.0.3.8"}]}',
      '---',
      'kind: AuthorizationPolicy',
      'metadata: {name: p}',
      "spec: {rules: [{from: [{source: {ipBlocks: ['10.0.3.8/32', 192.0.2.1]}}]}]}",
      '---',
      'kind: Service',
      'metadata: {name: s}',
      'spec: {clusterIP: 10.9.8.7}',
    ]);
  });

  it('says what it cannot map: an unknown node, two pods on one address, an octet past the /24', () => {
    const pod = (name: string, node: string, ip: string) =>
      `kind: Pod\nmetadata: {name: ${name}}\nspec: {nodeName: ${node}}\nstatus: {podIP: ${ip}}`;
    const text = [
      pod('a', 'node-c', '127.0.1.1'),
      pod('b', 'node-a', '127.0.1.9'),
      pod('c', 'node-a', '127.0.7.9'),
      pod('d', 'node-a', '127.0.1.253'),
    ].join('\n---\n');
    const result = translateForNetns(text, 'f.yaml', nodes, host);
    expect(result.problems).toEqual([
      "f.yaml: Pod default/a: node node-c is not one of the topology's nodes (node-a, node-b); its pod IP 127.0.1.1 is not mapped",
      'f.yaml: Pod default/c and Pod default/b both map to 10.0.2.10; give one of them another address',
      'f.yaml: Pod default/d: pod IP 127.0.1.253 has no netns address (last octet must be 1..252)',
    ]);
    expect(result.text).toContain('podIP: 127.0.1.1'); // unmapped: the control plane still sees it
  });

  it('copies a file that does not parse, so the control plane reports it', () => {
    const broken = 'kind: Pod\nmetadata: {name: [oops\nstatus: {podIP: 127.0.1.1}\n';
    expect(translateForNetns(broken, 'f.yaml', nodes, host)).toMatchObject({ text: broken, problems: [] });
  });

  it('address helpers', () => {
    expect(podAddress('127.0.1.1', 2)).toBe('10.0.2.2');
    expect(podAddress('127.0.1.253', 2)).toBeUndefined();
    expect(vipAddress('127.10.3.4')).toBe('10.96.3.4');
  });
});
