// Broken objects are rejected alone, with file:line and the field; everything else still translates.
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../load/yaml-source.ts';
import { formatProblem, type Problem } from './problems.ts';
import { translate, type Translation } from './translate.ts';

function tx(yaml: string): Translation {
  return translate(parseYaml(yaml, 'bad.yaml').objects, { waypoints: {} });
}

const names = (t: Translation): string[] => t.addresses.map((a) => a.name);

function find(t: Translation, text: string): Problem {
  const found = t.problems.find((p) => formatProblem(p).includes(text));
  if (found === undefined)
    throw new Error(`no problem containing ${JSON.stringify(text)} in:\n${t.problems.map(formatProblem).join('\n')}`);
  return found;
}

const good = `kind: Pod
metadata: {name: good}
status: {podIP: 127.0.1.1}
spec: {nodeName: n}
`;

describe('bad input', () => {
  it('a bad pod IP is an error at its line; the other pods still translate', () => {
    const t = tx(`${good}---
kind: Pod
metadata:
  name: bad-ip
spec: {nodeName: n}
status:
  podIP: 127.0.1.300
`);
    const p = find(t, 'bad-ip');
    expect(p).toMatchObject({
      severity: 'error',
      file: 'bad.yaml',
      line: 11,
      kind: 'Pod',
      namespace: 'default',
      name: 'bad-ip',
      field: 'status.podIP',
    });
    expect(formatProblem(p)).toBe(
      'bad.yaml:11: Pod default/bad-ip: error: status.podIP: "127.0.1.300" is not an IP address',
    );
    expect(names(t)).toEqual(['Kubernetes//Pod/default/good']);
  });

  it('a pod without podIP is rejected', () => {
    const t = tx(`${good}---
kind: Pod
metadata: {name: no-ip}
spec: {nodeName: n}
`);
    expect(find(t, 'no-ip')).toMatchObject({ severity: 'error', line: 6, field: 'status.podIP' });
    expect(names(t)).toEqual(['Kubernetes//Pod/default/good']);
  });

  it('a duplicate name is rejected pointing at the first definition; a reused IP is rejected too', () => {
    const t = tx(`${good}---
kind: Pod
metadata: {name: good}
status: {podIP: 127.0.1.2}
---
kind: Pod
metadata: {name: same-ip}
spec: {nodeName: n}
status: {podIP: 127.0.1.1}
`);
    expect(find(t, 'duplicate: already defined at bad.yaml:1')).toMatchObject({ severity: 'error', line: 7 });
    expect(find(t, 'IP 127.0.1.1 is already used by Pod default/good')).toMatchObject({ name: 'same-ip', line: 13 });
    expect(names(t)).toEqual(['Kubernetes//Pod/default/good']);
    expect(workloadIp(t)).toBe('fwABAQ==');
  });

  it('an unknown named targetPort is a warning on the Service; the endpoint keeps its other ports', () => {
    const t = tx(`kind: Pod
metadata: {name: p, labels: {app: p}}
spec: {nodeName: n, containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
status: {podIP: 127.0.1.1}
---
kind: Service
metadata: {name: s}
spec:
  clusterIP: 127.10.0.1
  selector: {app: p}
  ports:
    - name: http
      port: 80
      targetPort: http
    - {name: tcp, port: 90, targetPort: 9090}
`);
    const p = find(t, 'unknown port name "http"');
    expect(p).toMatchObject({
      severity: 'warning',
      kind: 'Service',
      name: 's',
      line: 14,
      field: 'spec.ports[0].targetPort',
    });
    const w = t.addresses.find((a) => a.name === 'Kubernetes//Pod/default/p')!.resource as {
      workload: Record<string, unknown>;
    };
    expect(w.workload['services']).toEqual({
      'default/s.default.svc.cluster.local': { ports: [{ servicePort: 90, targetPort: 9090 }] },
    });
  });

  it('a selector matching nothing is a warning, not an error', () => {
    const t = tx(`kind: Service
metadata: {name: lonely}
spec: {clusterIP: 127.10.0.1, selector: {app: nobody}, ports: [{port: 80}]}
`);
    expect(find(t, 'selects no pod')).toMatchObject({ severity: 'warning', line: 3, field: 'spec.selector' });
    expect(names(t)).toEqual(['default/lonely.default.svc.cluster.local']);
  });

  it('unknown kinds are listed and skipped', () => {
    const t = tx(`${good}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: x}
`);
    expect(t.skipped).toEqual([{ kind: 'Deployment', name: 'x/d', file: 'bad.yaml', line: 6 }]);
    expect(find(t, 'kind Deployment is not translated')).toMatchObject({ severity: 'warning' });
    expect(names(t)).toEqual(['Kubernetes//Pod/default/good']);
  });

  it('service port problems: bad targetPort, duplicate port, unnamed ports in a multi-port Service, bad clusterIP', () => {
    const t = tx(`kind: Service
metadata: {name: s1}
spec:
  clusterIP: 10.0.0.300
  ports: [{port: 80}]
---
kind: Service
metadata: {name: s2}
spec:
  clusterIP: 127.10.0.2
  ports:
    - {name: a, port: 80, targetPort: 70000}
    - {name: b, port: 80}
    - {port: 81}
---
kind: Service
metadata: {name: s3}
spec: {clusterIP: 127.10.0.3, selector: {app: x}, ports: [{port: 82}]}
`);
    expect(find(t, 'Service default/s1').field).toBe('spec.clusterIP');
    expect(find(t, 'must be a port number')).toMatchObject({ name: 's2', field: 'spec.ports[0].targetPort', line: 12 });
    expect(find(t, 'port 80 is listed twice')).toMatchObject({ line: 13 });
    expect(find(t, 'is required when a Service has more than one port')).toMatchObject({ line: 14 });
    expect(names(t)).toEqual(['default/s3.default.svc.cluster.local']);
  });

  it('labels must be strings; a bad waypoint-for value rejects the Gateway', () => {
    const t = tx(`kind: Pod
metadata:
  name: p
  labels:
    enabled: true
status: {podIP: 127.0.1.1}
---
kind: Gateway
metadata: {name: wp, labels: {istio.io/waypoint-for: everything}}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
`);
    expect(find(t, 'metadata.labels.enabled: must be a string')).toMatchObject({ line: 5 });
    expect(find(t, 'is not one of service, workload, all, none')).toMatchObject({ kind: 'Gateway', line: 9 });
    expect(names(t)).toEqual([]);
  });

  it('a use-waypoint label naming a missing waypoint is a warning on that label', () => {
    const t = tx(`kind: Service
metadata:
  name: s
  labels:
    istio.io/use-waypoint: ghost
spec: {clusterIP: 127.10.0.1, ports: [{port: 80}]}
`);
    expect(find(t, 'waypoint default/ghost cannot be used')).toMatchObject({ severity: 'warning', line: 5 });
    expect((t.addresses[0]!.resource as { service: Record<string, unknown> }).service['waypoint']).toBeUndefined();
  });

  it('a waypoint without pod address is not ready: bindings to it are reported and ignored', () => {
    const t = tx(`kind: Namespace
metadata: {name: default, labels: {istio.io/use-waypoint: wp}}
---
kind: Service
metadata: {name: s}
spec: {clusterIP: 127.10.0.1, ports: [{port: 80}]}
---
kind: Gateway
metadata: {name: wp}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
`);
    expect(find(t, 'no pod address (annotation')).toMatchObject({ kind: 'Gateway', severity: 'warning' });
    expect(find(t, 'istiod treats it as not ready')).toMatchObject({ kind: 'Namespace', line: 2 });
    expect(names(t)).toEqual(['default/s.default.svc.cluster.local', 'default/wp.default.svc.cluster.local']);
  });

  it('objects without kind, and problems from several files, keep their own file and line', () => {
    const a = parseYaml('metadata: {name: x}\n', 'a.yaml');
    const b = parseYaml(`${good}---\nkind: Pod\nmetadata: {name: x}\nstatus: {podIP: nope}\n`, 'b.yaml');
    const t = translate([...a.objects, ...b.objects]);
    expect(t.problems.map((p) => `${p.file}:${p.line}:${p.severity}`)).toEqual(['a.yaml:1:error', 'b.yaml:8:error']);
    expect(names(t)).toEqual(['Kubernetes//Pod/default/good']);
  });
});

function workloadIp(t: Translation): unknown {
  const w = t.addresses[0]!.resource as { workload: { addresses: string[] } };
  return w.workload.addresses[0];
}

describe('kinds that look alike', () => {
  it("Istio's networking.istio.io Gateway is skipped, not mistaken for a waypoint", () => {
    const t = tx(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress}
spec: {selector: {istio: ingressgateway}}
`);
    expect(t.skipped).toEqual([
      { kind: 'Gateway.networking.istio.io', name: 'default/ingress', file: 'bad.yaml', line: 1 },
    ]);
    expect(t.problems.map((p) => p.severity)).toEqual(['warning']);
  });
});
