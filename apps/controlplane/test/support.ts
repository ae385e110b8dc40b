// Shared by the translation unit tests: parse YAML, translate, pick resources by name.
import type { workload as wire } from '@ambient-ts/istio-api';
import { expect } from 'vitest';
import { parseYaml } from '../src/load/yaml-source.ts';
import type { TranslateOptions } from '../src/translate/model.ts';
import { translate, type Translation } from '../src/translate/translate.ts';

export function tx(yaml: string, options?: TranslateOptions): Translation {
  const loaded = parseYaml(yaml, 'mesh.yaml');
  expect(loaded.problems).toEqual([]);
  return translate(loaded.objects, options);
}

export function workload(t: Translation, uid: string): wire.Workload {
  const found = t.addresses.find((a) => a.name === uid);
  if (found === undefined || !('workload' in found.resource))
    throw new Error(`no workload ${uid} in ${t.addresses.map((a) => a.name).join(', ')}`);
  return found.resource.workload;
}

export function service(t: Translation, name: string): wire.Service {
  const found = t.addresses.find((a) => a.name === name);
  if (found === undefined || !('service' in found.resource)) throw new Error(`no service ${name}`);
  return found.resource.service;
}

export const b64 = (ip: string): string => Buffer.from(ip.split('.').map(Number)).toString('base64');

/** Two namespaces (default ambient), an ambient echo pod behind a Service with a named and a numeric port, a plain pod. */
export const base = `
apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: v1
kind: Namespace
metadata: {name: outside}
---
apiVersion: v1
kind: Pod
metadata:
  name: echo-v1
  namespace: default
  labels: {app: echo, version: v1}
spec:
  nodeName: node-a
  serviceAccountName: echo
  containers:
    - name: echo
      ports: [{name: http, containerPort: 8080}]
status: {podIP: 127.0.1.1}
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
  namespace: outside
spec:
  nodeName: node-b
  containers: [{name: c}]
status: {podIP: 127.0.2.2}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  clusterIP: 127.10.0.1
  selector: {app: echo}
  ports:
    - {name: http, port: 80, targetPort: http}
    - {name: admin, port: 9000, targetPort: 9001}
`;
