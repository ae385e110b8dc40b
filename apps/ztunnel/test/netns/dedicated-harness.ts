// The netns tier's dedicated-mode pieces (facts §9.4 "dedicated mode variant"): a ztunnel child process inside a
// node's namespace sharing it with its one workload (the node's IP is the workload's), certificates from one test
// CA written to disk, and what the test reads back from inside the namespace (readiness, metrics, JSON logs).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateAuthority } from '@ambient-ts/ca';
import { exec, start, type NamespacedProcess } from '@ambient-ts/netns-topology';

const entry = join(import.meta.dirname, 'dedicated-ztunnel.ts');
const controlPlaneCli = join(import.meta.dirname, '../../../controlplane/src/cli.ts');

/** `env -i` argv prefix: a child with only PATH and `env` (nothing of the test runner's environment). */
const cleanEnv = (env: Record<string, string>): string[] => [
  'env',
  '-i',
  `PATH=${process.env['PATH'] ?? '/usr/bin:/bin'}`,
  ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
];

/**
 * The local control plane (`controlplane serve`: xDS and CA on 15010/15012) inside `namespace`, bound to `host`,
 * serving the Kubernetes-style YAML in `meshFile`; node tokens under `<stateDir>/tokens/<node>`.
 */
export async function startControlPlane(options: {
  namespace: string;
  host: string;
  meshFile: string;
  stateDir: string;
}): Promise<NamespacedProcess> {
  const child = start(options.namespace, [
    ...cleanEnv({}),
    process.execPath,
    '--conditions=ambient-ts-source',
    controlPlaneCli,
    'serve',
    '--state-dir',
    options.stateDir,
    '--host',
    options.host,
    '--log-format',
    'json',
    options.meshFile,
  ]);
  try {
    await child.waitFor('watching the YAML', 30_000);
  } catch (error) {
    await child.stop();
    throw new Error(`${(error as Error).message}\nstderr: ${child.stderr()}`, { cause: error });
  }
  return child;
}

/** A fresh CA whose certificate and key both child ztunnels load: one mesh, one root. */
export async function writeTestCa(dir: string): Promise<string> {
  const caDir = join(dir, 'ca');
  await mkdir(caDir, { mode: 0o700 });
  const { certPem, keyPem } = (await CertificateAuthority.create({ trustDomain: 'cluster.local' })).exportPem();
  await writeFile(join(caDir, 'ca-cert.pem'), certPem);
  await writeFile(join(caDir, 'ca-key.pem'), keyPem, { mode: 0o600 });
  return caDir;
}

/** A workload line of static config (HBONE, default namespace, service account = name). */
export function staticWorkload(name: string, ip: string, node: string): string {
  return `- {uid: cluster1//v1/Pod/default/${name}, name: ${name}, namespace: default, serviceAccount: ${name}, trustDomain: cluster.local, workloadIps: ["${ip}"], protocol: HBONE, node: ${node}}`;
}

export const identity = (name: string): string => `spiffe://cluster.local/ns/default/sa/${name}`;

export interface DedicatedZtunnel {
  readonly process: NamespacedProcess;
  /** Its JSON log records so far. */
  logs(): Record<string, unknown>[];
  /** GET a path of one of its servers, from inside its namespace (15020 metrics, 15021 readiness, 15000 admin). */
  get(port: number, path: string): Promise<string>;
  stop(): Promise<void>;
}

// Prints the body of a GET (or exits 2 with the error), run with this process's Node inside a namespace.
const GET = `fetch(process.argv[1]).then(async (r) => process.stdout.write(await r.text()), (e) => { console.error(e.message); process.exit(2); })`;

/**
 * Starts `PROXY_MODE=dedicated` for `workload` inside `namespace` with a clean environment (static config from
 * `localXdsPath`, no xDS, JSON logs with access logs at debug) and waits until /healthz/ready says ready.
 */
export async function startDedicatedZtunnel(options: {
  namespace: string;
  workload: string;
  /** Static config; without it the environment must name XDS_ADDRESS. */
  localXdsPath?: string;
  caDir: string;
  env?: Record<string, string>;
}): Promise<DedicatedZtunnel> {
  const env = {
    PROXY_MODE: 'dedicated',
    PROXY_WORKLOAD_INFO: `default/${options.workload}/${options.workload}`,
    XDS_ADDRESS: '',
    FAKE_CA: 'true', // satisfies the config check; the entry passes the shared test CA instead
    ...(options.localXdsPath ? { LOCAL_XDS_PATH: options.localXdsPath } : {}),
    LOG_FORMAT: 'json',
    RUST_LOG: 'info,access:debug',
    CONNECTION_TERMINATION_DEADLINE: '1s',
    ...options.env,
  };
  const child = start(options.namespace, [
    ...cleanEnv(env),
    process.execPath,
    '--conditions=ambient-ts-source',
    entry,
    options.caDir,
  ]);
  const get = async (port: number, path: string): Promise<string> =>
    (await exec(options.namespace, [process.execPath, '-e', GET, `http://127.0.0.1:${port}${path}`])).stdout;
  const ztunnel: DedicatedZtunnel = {
    process: child,
    logs: () =>
      child
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    get,
    stop: () => child.stop(),
  };
  try {
    await child.waitFor('ztunnel started', 30_000);
    const deadline = Date.now() + 15_000;
    while ((await get(15021, '/healthz/ready').catch(() => '')).trim() !== 'ready') {
      if (Date.now() > deadline) throw new Error(`ztunnel in ${options.namespace} not ready: ${child.stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await child.stop();
    throw new Error(`${(error as Error).message}\nstderr: ${child.stderr()}`, { cause: error });
  }
  return ztunnel;
}
