import { describe, expect, it } from 'vitest';
import { defaultPodUid, parsePodsFile, PodsFileError } from './pods-file.ts';

const nodes = new Map([
  ['node0', 2],
  ['node1', 3],
]);

const problemsOf = (text: string) => {
  try {
    parsePodsFile(text, { file: 'pods.yaml', nodes });
  } catch (error) {
    expect(error).toBeInstanceOf(PodsFileError);
    return (error as PodsFileError).problems.map((p) => `${p.line}: ${p.field}: ${p.message}`);
  }
  throw new Error('parsed without problems');
};

describe('parsePodsFile', () => {
  it('reads the node and its pods, filling in the service account and the uid as Istio forms them', () => {
    const file = parsePodsFile(
      [
        'node: node0',
        'pods:',
        '  - name: productpage',
        '    namespace: default',
        '    serviceAccount: bookinfo-productpage',
        '    ip: 10.0.2.5',
        '  - name: ratings',
        '    namespace: shop',
        '    ip: 10.0.2.6',
        '    uid: 1234-abcd',
      ].join('\n'),
      { nodes },
    );
    expect(file).toEqual({
      node: 'node0',
      pods: [
        {
          key: 'default/productpage',
          name: 'productpage',
          namespace: 'default',
          serviceAccount: 'bookinfo-productpage',
          ip: '10.0.2.5',
          id: 5,
          uid: 'cluster1//v1/Pod/default/productpage',
          line: 3,
        },
        {
          key: 'shop/ratings',
          name: 'ratings',
          namespace: 'shop',
          serviceAccount: 'default',
          ip: '10.0.2.6',
          id: 6,
          uid: '1234-abcd',
          line: 7,
        },
      ],
    });
    expect(parsePodsFile('node: node1\npods: []\n', { nodes }).pods).toEqual([]);
    expect(defaultPodUid('ns', 'p', 'east')).toBe('east//v1/Pod/ns/p');
  });

  it('names the file, line and field of every problem', () => {
    const text = [
      'node: node0',
      'pods:',
      '  - name: Web_1', // 3
      '    namespace: default',
      '    ip: 10.0.3.7', // 5: another node's address
      '  - name: db', // 6
      '    ip: 10.0.2.300',
      '    colour: blue', // 8
      '  - name: cache', // 9
      '    namespace: default',
      '    ip: 10.0.2.9',
      '    uid: ""', // 12
      '  - name: cache2',
      '    namespace: default',
      '    ip: 10.0.2.9', // 15: duplicate address
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      '3: pods[0].name: "Web_1" is not a Kubernetes name (lower-case DNS-1123 subdomain)',
      '5: pods[0].ip: 10.0.3.7 is not on node node0 (its pods are 10.0.2.x)',
      '8: pods[1].colour: unknown field (expected name, namespace, serviceAccount, ip, uid)',
      '6: pods[1].namespace: required',
      '7: pods[1].ip: "10.0.2.300" is not a pod address 10.0.<node id>.<2..253>',
      '12: pods[2].uid: must not be empty (leave it out for the default)',
      '15: pods[3].ip: address 10.0.2.9 is already used at line 9',
    ]);
    try {
      parsePodsFile(text, { file: 'pods.yaml', nodes });
    } catch (error) {
      expect((error as PodsFileError).code).toBe('PODS_FILE_INVALID');
      expect((error as Error).message).toContain('pods file pods.yaml is invalid (the pods in force stay in force)');
      expect((error as Error).message).toContain('  pods.yaml:5: pods[0].ip: 10.0.3.7 is not on node node0');
    }
  });

  it('refuses a node the topology lacks, duplicate pods and uids, YAML that does not parse, and a wrong shape', () => {
    expect(problemsOf('node: node7\npods: []\n')).toEqual([
      '1: node: no node node7 in the topology (nodes: node0, node1)',
    ]);
    expect(
      problemsOf(
        [
          'node: node0',
          'pods:',
          '  - { name: a, namespace: default, ip: 10.0.2.2, uid: same }',
          '  - { name: a, namespace: default, ip: 10.0.2.3 }',
          '  - { name: b, namespace: default, ip: 10.0.2.4, uid: same }',
        ].join('\n'),
      ),
    ).toEqual([
      '4: pods[1].name: pod default/a is already used at line 3',
      '5: pods[2].uid: uid same is already used at line 3',
    ]);
    expect(problemsOf('node: node0\npods:\n  - name: [unclosed\n')[0]).toMatch(/^\d+: \(file\): /);
    expect(problemsOf('- just\n- a list\n')).toEqual(['1: (file): expected a mapping with node and pods']);
    expect(problemsOf('node: node0\nzone: a\n')).toEqual([
      '2: zone: unknown field (expected node, pods)',
      '1: pods: required (a list, may be empty)',
    ]);
    expect(problemsOf('node: 3\npods: {}\n')).toEqual(['1: node: must be a string', '2: pods: must be a list of pods']);
  });
});
