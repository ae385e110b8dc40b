// The node agent: Istio's CNI node agent's part for one node (facts §9.1, §9.3). It follows a pods file, makes
// each pod's network namespace on the node (a veth to it, @ambient-ts/netns-topology), installs Istio's in-pod
// iptables rules inside it, and hands the namespace to ztunnel over ZDS: on every ztunnel connection an Add (the
// netns fd over SCM_RIGHTS) for each pod it has, then SnapshotSent, then Add/Del as the file changes — always to
// the newest connection. A removed pod is Del'ed first; its rules and namespace go once ztunnel acknowledged.
//
// Work on pods is serialized (one reconcile at a time, in file order); ZDS requests are serialized per
// connection (ZdsConnection). A NACKed request is re-sent after retryMs while it still applies; a pod whose
// namespace could not be made (or vanished) is reported by name and re-made after retryMs; the others go on.
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ZDS_MAX_MESSAGE_BYTES } from '@ambient-ts/istio-api';
import { SeqpacketServer } from '@ambient-ts/netns';
import {
  detectIptables,
  installInpodRules,
  removeInpodRules,
  type NodeInfo,
  type PodInfo,
  type Topology,
} from '@ambient-ts/netns-topology';
import { FileFollower } from './follow-file.ts';
import { parsePodsFile, PodsFileError, type PodSpec } from './pods-file.ts';
import {
  encodeRequest,
  ZdsConnection,
  type AddRequest,
  type Logger,
  type RequestOutcome,
  type ZdsPeer,
} from './zds-connection.ts';

/** Istio's INPOD_UDS default: where ztunnel looks for the node agent. */
export const DEFAULT_ZDS_PATH = '/var/run/ztunnel/ztunnel.sock';

export type NodeAgentErrorCode =
  /** no iptables works in the node's namespace (Debian's iptables package missing, or no kernel support) */
  | 'NODE_AGENT_IPTABLES_UNAVAILABLE'
  /** the ZDS socket could not be created (path, permissions, native helper missing) */
  | 'NODE_AGENT_LISTEN_FAILED'
  /** a caller mistake: started twice, options out of range */
  | 'NODE_AGENT_INVALID_OPTIONS';

export class NodeAgentError extends Error {
  readonly code: NodeAgentErrorCode;
  constructor(code: NodeAgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeAgentError';
    this.code = code;
  }
}

export interface NodeAgentOptions {
  /** The pods file (YAML: node, pods); followed while the agent runs. */
  readonly podsFile: string;
  /** Where pods are made: the file's node must be one of its nodes (createTopology or adoptTopology). */
  readonly topology: Topology;
  /** The ZDS socket (SOCK_SEQPACKET); default /var/run/ztunnel/ztunnel.sock. */
  readonly udsPath?: string;
  /** How long ztunnel may take to answer a request (and to say hello); then the connection is dropped. Default 5000. */
  readonly ackTimeoutMs?: number;
  /** Re-send a NACKed request, re-make a failed pod, after this long. Default 5000. */
  readonly retryMs?: number;
  /** Pods-file change debounce; default 100 ms. Stat fallback every pollMs (default 1000). */
  readonly debounceMs?: number;
  readonly pollMs?: number;
  /** Also redirect the pods' DNS to ztunnel's 15053 (Istio's DNS capture). Default false. */
  readonly dns?: boolean;
  /** Cluster id in default pod uids; default cluster1. */
  readonly clusterId?: string;
  readonly log?: Logger;
}

export type PodState = 'creating' | 'ready' | 'failed' | 'refused' | 'deleting';

export interface PodStatus {
  readonly key: string;
  readonly uid: string;
  readonly ip: string;
  readonly state: PodState;
  /** Its network namespace (`ip netns` name), once made. */
  readonly netns?: string;
  /** The newest ztunnel connection acknowledged its Add. */
  readonly acked: boolean;
  readonly error?: string;
}

export interface ConnectionStatus {
  readonly id: number;
  readonly phase: 'awaiting-hello' | 'open' | 'closed';
  readonly newest: boolean;
  readonly acks: number;
  readonly nacks: number;
  readonly snapshotAcked: boolean;
}

export interface NodeAgentStatus {
  readonly node: string;
  readonly udsPath: string;
  readonly podsFile: { readonly path: string; readonly error?: string };
  readonly pods: readonly PodStatus[];
  readonly connections: readonly ConnectionStatus[];
}

export interface NodeAgentEvents {
  'pods-file-error': [PodsFileError];
  'pods-file-loaded': [readonly PodSpec[]];
  'pod-ready': [PodStatus];
  'pod-removed': [string];
  'pod-error': [string, string];
  nack: [string, string];
  'snapshot-acked': [number];
}

interface AgentPod {
  readonly spec: PodSpec;
  state: PodState;
  netns?: PodInfo;
  error?: string;
  retryAt?: number;
  /** Connection ids that acknowledged its Add. */
  readonly ackedBy: Set<number>;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sameSpec = (a: PodSpec, b: PodSpec) =>
  a.uid === b.uid &&
  a.ip === b.ip &&
  a.serviceAccount === b.serviceAccount &&
  a.name === b.name &&
  a.namespace === b.namespace;

export class NodeAgent extends EventEmitter<NodeAgentEvents> {
  readonly #options: NodeAgentOptions;
  readonly #log: Logger;
  readonly #udsPath: string;
  readonly #ackTimeoutMs: number;
  readonly #retryMs: number;
  #node: NodeInfo | undefined;
  #desired: readonly PodSpec[] = [];
  readonly #pods = new Map<string, AgentPod>();
  readonly #connections: ZdsConnection[] = [];
  readonly #snapshotAcked = new Set<number>();
  #nextConnectionId = 1;
  #server: SeqpacketServer | undefined;
  #follower: FileFollower | undefined;
  #fileError: string | undefined;
  #work: Promise<void> = Promise.resolve();
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: NodeAgentOptions) {
    super();
    this.#options = options;
    this.#log = options.log ?? silent;
    this.#udsPath = options.udsPath ?? DEFAULT_ZDS_PATH;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.#retryMs = options.retryMs ?? 5000;
    if (!(this.#ackTimeoutMs > 0) || !(this.#retryMs > 0))
      throw new NodeAgentError('NODE_AGENT_INVALID_OPTIONS', 'ackTimeoutMs and retryMs must be positive');
  }

  get udsPath(): string {
    return this.#udsPath;
  }

  /**
   * Reads the pods file (a bad one rejects with PodsFileError), checks iptables, makes every pod's namespace, then
   * listens for ztunnel and follows the file.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new NodeAgentError('NODE_AGENT_INVALID_OPTIONS', 'start() was already called');
    this.#state = 'running';
    const { podsFile, topology } = this.#options;
    const signature = await FileFollower.signature(podsFile); // before reading: a later edit is not missed
    const file = await this.#read();
    this.#node = topology.node(file.node);
    this.#desired = file.pods;
    try {
      await detectIptables(this.#node.namespace);
    } catch (error) {
      this.#state = 'stopped';
      throw new NodeAgentError(
        'NODE_AGENT_IPTABLES_UNAVAILABLE',
        `the node agent needs iptables to install the in-pod rules: ${errorText(error)}`,
        { cause: error },
      );
    }
    await this.#enqueue(() => this.#reconcile());
    this.#listen();
    this.#follower = new FileFollower(podsFile, {
      debounceMs: this.#options.debounceMs ?? 100,
      pollMs: this.#options.pollMs ?? 1000,
      onChange: () => this.#reload(),
    });
    await this.#follower.start(signature);
    this.#log.info(
      { uds: this.#udsPath, node: file.node, pods: this.#desired.length, podsFile },
      'node agent listening for ztunnel',
    );
  }

  /**
   * Stops accepting ztunnel and following the file, and hangs up. With cleanup, every pod is Del'ed first (on
   * the newest connection) and its rules and namespace removed; otherwise the namespaces stay.
   */
  async stop(options: { cleanup?: boolean } = {}): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#follower?.stop();
    await this.#follower?.settled();
    this.#server?.close();
    this.#server = undefined;
    rmSync(this.#udsPath, { force: true });
    clearTimeout(this.#retryTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    await this.#work;
    if (options.cleanup) {
      this.#desired = [];
      await this.#reconcile(true);
    }
    for (const connection of [...this.#connections]) connection.close('the node agent is stopping');
  }

  status(): NodeAgentStatus {
    const newest = this.#newest();
    return {
      node: this.#node?.name ?? '',
      udsPath: this.#udsPath,
      podsFile: { path: this.#options.podsFile, ...(this.#fileError ? { error: this.#fileError } : {}) },
      pods: [...this.#pods.values()].map((pod) => this.#podStatus(pod, newest)),
      connections: this.#connections.map((connection) => ({
        id: connection.id,
        phase: connection.phase,
        newest: connection === newest,
        acks: connection.acks,
        nacks: connection.nacks,
        snapshotAcked: this.#snapshotAcked.has(connection.id),
      })),
    };
  }

  /** Resolves once the work queued so far (reconciles, a file change being handled) is done. */
  async settled(): Promise<void> {
    await this.#follower?.settled();
    await this.#work;
  }

  #podStatus(pod: AgentPod, newest = this.#newest()): PodStatus {
    return {
      key: pod.spec.key,
      uid: pod.spec.uid,
      ip: pod.spec.ip,
      state: pod.state,
      ...(pod.netns ? { netns: pod.netns.namespace } : {}),
      acked: newest !== undefined && pod.ackedBy.has(newest.id),
      ...(pod.error ? { error: pod.error } : {}),
    };
  }

  // --- the pods file

  async #read(): Promise<{ node: string; pods: readonly PodSpec[] }> {
    const { podsFile, topology, clusterId } = this.#options;
    let text: string;
    try {
      text = await readFile(podsFile, 'utf8');
    } catch (error) {
      throw new PodsFileError(
        'PODS_FILE_UNREADABLE',
        podsFile,
        [],
        `pods file ${podsFile} cannot be read (the pods in force stay in force): ${errorText(error)}`,
      );
    }
    const nodes = new Map(topology.nodes.map((node) => [node.name, node.id]));
    return parsePodsFile(text, { file: podsFile, nodes, ...(clusterId ? { clusterId } : {}) });
  }

  async #reload(): Promise<void> {
    if (this.#state !== 'running') return;
    let file: { node: string; pods: readonly PodSpec[] };
    try {
      file = await this.#read();
      if (file.node !== this.#node?.name)
        throw new PodsFileError('PODS_FILE_INVALID', this.#options.podsFile, [
          {
            line: 1,
            field: 'node',
            message: `this agent serves ${this.#node?.name}; the node cannot change to ${file.node}`,
          },
        ]);
    } catch (error) {
      const fileError =
        error instanceof PodsFileError
          ? error
          : new PodsFileError('PODS_FILE_INVALID', this.#options.podsFile, [], errorText(error));
      if (fileError.message !== this.#fileError) {
        this.#fileError = fileError.message;
        this.#log.error({ code: fileError.code, podsFile: this.#options.podsFile }, fileError.message);
      }
      this.emit('pods-file-error', fileError);
      return;
    }
    if (this.#fileError) this.#log.info({ podsFile: this.#options.podsFile }, 'pods file valid again');
    this.#fileError = undefined;
    this.#desired = file.pods;
    this.#log.info({ podsFile: this.#options.podsFile, pods: file.pods.length }, 'pods file loaded');
    this.emit('pods-file-loaded', file.pods);
    await this.#enqueue(() => this.#reconcile());
  }

  // --- pods

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#work = this.#work.then(task).catch((error: unknown) => {
      this.#log.error({ error: errorText(error) }, 'node agent task failed');
    });
    return this.#work;
  }

  /** Makes the pods in force match the file: removals first (a changed pod is removed and made again). */
  async #reconcile(stopping = false): Promise<void> {
    if (this.#state !== 'running' && !stopping) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const desired = new Map(this.#desired.map((spec) => [spec.key, spec]));
    for (const pod of [...this.#pods.values()]) {
      const want = desired.get(pod.spec.key);
      if (!want || !sameSpec(want, pod.spec)) await this.#remove(pod);
    }
    if (!stopping) {
      for (const spec of this.#desired) {
        const pod = this.#pods.get(spec.key);
        if (!pod) await this.#create(spec);
        else if (pod.state === 'failed' && (pod.retryAt ?? 0) <= Date.now()) {
          await this.#teardown(pod);
          this.#pods.delete(spec.key);
          await this.#create(spec);
        }
      }
    }
    const retries = [...this.#pods.values()].filter((pod) => pod.state === 'failed' || pod.state === 'deleting');
    if (retries.length > 0 && this.#state === 'running') {
      this.#retryTimer = setTimeout(() => void this.#enqueue(() => this.#reconcile()), this.#retryMs);
    }
  }

  async #create(spec: PodSpec): Promise<void> {
    const pod: AgentPod = { spec, state: 'creating', ackedBy: new Set() };
    this.#pods.set(spec.key, pod);
    const name = `pod ${spec.key} (${spec.uid})`;
    const bytes = encodeRequest(this.#addRequest(pod)).length;
    if (bytes > ZDS_MAX_MESSAGE_BYTES) {
      this.#fail(
        pod,
        'refused',
        `${name}: its AddWorkload would be ${bytes} bytes, more than ZDS's ${ZDS_MAX_MESSAGE_BYTES}; refused (shorten its name, namespace, service account or uid)`,
      );
      return;
    }
    try {
      const node = this.#node!;
      pod.netns =
        node.pods.find((existing) => existing.id === spec.id && !this.#isTracked(existing)) ??
        (await this.#options.topology.addPod(node, { id: spec.id, name: spec.key }));
      await installInpodRules(pod.netns.namespace, { dns: this.#options.dns ?? false });
    } catch (error) {
      this.#fail(pod, 'failed', `${name}: making its network namespace failed: ${errorText(error)}`);
      return;
    }
    pod.state = 'ready';
    pod.error = undefined;
    this.#log.info({ pod: spec.key, uid: spec.uid, ip: spec.ip, netns: pod.netns.namespace }, 'pod ready');
    this.emit('pod-ready', this.#podStatus(pod));
    const newest = this.#newest();
    if (newest?.phase === 'open') this.#sendAdd(pod, newest);
  }

  #isTracked(netns: PodInfo): boolean {
    for (const pod of this.#pods.values()) if (pod.netns === netns) return true;
    return false;
  }

  #fail(pod: AgentPod, state: 'failed' | 'refused', message: string): void {
    pod.state = state;
    pod.error = message;
    pod.retryAt = Date.now() + this.#retryMs;
    this.#log.error({ pod: pod.spec.key, uid: pod.spec.uid }, message);
    this.emit('pod-error', pod.spec.key, message);
  }

  /** Del on the newest connection (when ztunnel may have it), then the rules and the namespace. */
  async #remove(pod: AgentPod): Promise<void> {
    const wasReady = pod.state === 'ready' || pod.state === 'deleting';
    pod.state = 'deleting';
    const newest = this.#newest();
    if (wasReady && newest?.phase === 'open') {
      const outcome = await newest.request({ kind: 'del', uid: pod.spec.uid, pod: pod.spec.key });
      if (outcome.result === 'nack') {
        pod.error = `pod ${pod.spec.key} (${pod.spec.uid}): ztunnel NACKed DelWorkload: ${outcome.error}; retrying in ${this.#retryMs} ms`;
        this.#log.warn({ pod: pod.spec.key, uid: pod.spec.uid }, pod.error);
        this.emit('nack', pod.spec.key, outcome.error);
        return; // kept; the next reconcile tries again
      }
      // ack, or the connection is gone: its successor's snapshot leaves the pod out
    }
    await this.#teardown(pod);
    this.#pods.delete(pod.spec.key);
    this.#log.info({ pod: pod.spec.key, uid: pod.spec.uid }, 'pod removed');
    this.emit('pod-removed', pod.spec.key);
  }

  async #teardown(pod: AgentPod): Promise<void> {
    if (!pod.netns) return;
    await removeInpodRules(pod.netns.namespace).catch(() => undefined); // the namespace may be gone already
    await this.#options.topology.removePod(pod.netns);
    pod.netns = undefined;
  }

  // --- ZDS

  #listen(): void {
    try {
      mkdirSync(dirname(this.#udsPath), { recursive: true });
      rmSync(this.#udsPath, { force: true }); // a socket an earlier agent left
      this.#server = new SeqpacketServer(this.#udsPath);
    } catch (error) {
      this.#state = 'stopped';
      throw new NodeAgentError(
        'NODE_AGENT_LISTEN_FAILED',
        `cannot listen for ztunnel on ${this.#udsPath}: ${errorText(error)}`,
        { cause: error },
      );
    }
    this.#server.on('connection', (socket) => this.#accept(socket));
    this.#server.on('error', (error) => this.#log.error({ error: errorText(error) }, 'accepting ztunnel failed'));
  }

  #accept(socket: ZdsPeer): void {
    if (this.#state !== 'running') {
      socket.close();
      return;
    }
    const connection = new ZdsConnection(socket, {
      id: this.#nextConnectionId++,
      ackTimeoutMs: this.#ackTimeoutMs,
      log: this.#log,
      onHello: (c) => this.#sendSnapshot(c),
      onClose: (c) => this.#closed(c),
    });
    this.#connections.push(connection);
    this.#log.info({ connection: connection.id, open: this.#connections.length }, 'ztunnel connection accepted');
  }

  #newest(): ZdsConnection | undefined {
    return this.#connections.at(-1);
  }

  #closed(connection: ZdsConnection): void {
    const wasNewest = this.#newest() === connection;
    this.#connections.splice(this.#connections.indexOf(connection), 1);
    this.#snapshotAcked.delete(connection.id);
    for (const pod of this.#pods.values()) pod.ackedBy.delete(connection.id);
    if (wasNewest && this.#connections.length > 0) {
      // The older connections missed the updates the newest got: they reconnect and get a fresh snapshot.
      for (const older of [...this.#connections]) older.close('a newer ztunnel connection ended; resync');
    }
  }

  #addRequest(pod: AgentPod): AddRequest {
    const { spec } = pod;
    return {
      kind: 'add',
      uid: spec.uid,
      pod: spec.key,
      info: { name: spec.name, namespace: spec.namespace, serviceAccount: spec.serviceAccount },
      open: () => {
        const namespace = pod.netns?.namespace;
        if (!namespace) throw new Error(`pod ${spec.key} (${spec.uid}) has no network namespace`);
        let fd: number;
        try {
          fd = openSync(`/var/run/netns/${namespace}`, 'r');
        } catch (error) {
          throw new Error(
            `pod ${spec.key} (${spec.uid}): its network namespace ${namespace} is gone (${(error as NodeJS.ErrnoException).code ?? errorText(error)})`,
            { cause: error },
          );
        }
        return { fd, close: () => closeSync(fd) };
      },
    };
  }

  #sendSnapshot(connection: ZdsConnection): void {
    const ready = [...this.#pods.values()].filter((pod) => pod.state === 'ready');
    for (const pod of ready) this.#sendAdd(pod, connection);
    void connection.request({ kind: 'snapshot-sent' }).then((outcome) => {
      if (outcome.result === 'ack') {
        this.#snapshotAcked.add(connection.id);
        this.#log.info({ connection: connection.id, pods: ready.length }, 'snapshot acknowledged');
        this.emit('snapshot-acked', connection.id);
      } else if (outcome.result === 'nack') {
        this.#log.warn({ connection: connection.id, error: outcome.error }, 'ztunnel NACKed SnapshotSent');
      }
    });
  }

  #sendAdd(pod: AgentPod, connection: ZdsConnection): void {
    void connection.request(this.#addRequest(pod)).then((outcome) => this.#added(pod, connection, outcome));
  }

  #added(pod: AgentPod, connection: ZdsConnection, outcome: RequestOutcome): void {
    const current = this.#pods.get(pod.spec.key) === pod && pod.state === 'ready';
    switch (outcome.result) {
      case 'ack':
        pod.ackedBy.add(connection.id);
        if (current && pod.error) pod.error = undefined;
        return;
      case 'nack': {
        if (!current) return;
        pod.error = `pod ${pod.spec.key} (${pod.spec.uid}): ztunnel NACKed AddWorkload: ${outcome.error}; re-sending in ${this.#retryMs} ms`;
        this.#log.warn({ pod: pod.spec.key, uid: pod.spec.uid, connection: connection.id }, pod.error);
        this.emit('nack', pod.spec.key, outcome.error);
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          const still = this.#pods.get(pod.spec.key) === pod && pod.state === 'ready';
          if (still && this.#state === 'running' && this.#newest() === connection && connection.phase === 'open')
            this.#sendAdd(pod, connection);
        }, this.#retryMs);
        this.#timers.add(timer);
        return;
      }
      case 'not-sent':
        if (!current) return;
        this.#fail(pod, 'failed', outcome.error);
        void this.#enqueue(() => this.#reconcile());
        return;
      case 'dropped':
        return; // the next connection gets a snapshot
    }
  }
}
