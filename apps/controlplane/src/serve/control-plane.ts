// The running control plane, like istiod for ambient on one machine: translate the YAML, serve the
// result over delta xDS and the Istio CA on a plaintext and a TLS port, keep node tokens and the CA root
// in the state directory, and follow edits to the YAML. A broken edit is refused as a whole; the last
// good config keeps being served.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatHostPort } from '@ambient-ts/addresses';
import { NodeTokenIssuer, type Caller } from '@ambient-ts/ca';
import { DeltaXdsServer } from '@ambient-ts/xds';
import { Logging } from '@ambient-ts/telemetry';
import { ControlPlaneError } from '../errors.ts';
import { formatProblem } from '../translate/problems.ts';
import { loadConfig, type LoadedConfig } from './config-source.ts';
import { caEventLogger, logProblems, xdsEventLogger, type Logger } from './log-events.ts';
import { PlacementView } from './node-view.ts';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './options.ts';
import { planPush } from './resources.ts';
import type { RunningControlPlane, ServedConfig, UpdateOutcome } from './types.ts';
import { startServing, xdsAuthenticator, type Serving } from './servers.ts';
import {
  loadOrCreateAuthority,
  loadOrCreateTokenKey,
  prepareStateDir,
  STATE_FILES,
  writeFileAtomic,
} from './state-dir.ts';
import { planTokens, TokenFiles, waypointTokenFile } from './tokens.ts';
import { ConfigWatcher } from './watch.ts';

type Lifecycle = { state: 'serving' } | { state: 'closing'; done: Promise<void> } | { state: 'closed' };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function startControlPlane(options: ServeOptions): Promise<RunningControlPlane> {
  const opts = resolveServeOptions(options);
  const logging = options.logging ?? new Logging();
  const log = logging.scope('controlplane');
  const configLog = logging.scope('config');

  const first = await loadConfig(opts.files, opts.translateOptions);
  if (first.errors > 0) {
    logProblems(configLog, first.problems);
    const errors = first.problems.filter((p) => p.severity === 'error');
    throw new ControlPlaneError(
      'CONFIG_INVALID',
      `the YAML has ${plural(errors.length, 'error')}, so there is nothing good to serve:\n${errors.map(formatProblem).join('\n')}`,
    );
  }
  logProblems(configLog, first.problems);

  await prepareStateDir(opts.stateDir);
  const { authority, created, warnings } = await loadOrCreateAuthority(opts.stateDir, opts.translate.trustDomain);
  for (const warning of warnings) log.warn(warning);
  const rootCertPath = join(opts.stateDir, STATE_FILES.rootCert);
  await writeFileAtomic(rootCertPath, authority.rootCertsPem);
  let issuer: NodeTokenIssuer;
  try {
    issuer = new NodeTokenIssuer(await loadOrCreateTokenKey(opts.stateDir));
  } catch (error) {
    throw new ControlPlaneError(
      'STATE_INVALID',
      `${join(opts.stateDir, STATE_FILES.tokenKey)} is not a usable EC P-256 key (${(error as Error).message}); delete it to create a new one`,
      { cause: error },
    );
  }
  const tokens = new TokenFiles(join(opts.stateDir, STATE_FILES.tokens), issuer, {
    clusterId: opts.translate.clusterId,
    ttlSeconds: opts.tokenTtlSeconds,
  });
  const verifier = issuer.verifier();
  const view = new PlacementView(first.translation.placement);
  const xds = new DeltaXdsServer<Caller>({ authenticate: xdsAuthenticator(verifier) });
  xds.onEvent(xdsEventLogger(logging.scope('xds')));

  const plane = new ControlPlane(opts, log, configLog, xds, view, tokens);
  await plane.apply(first); // tokens and resources before any proxy can connect
  const serving = await startServing({
    host: opts.host,
    ports: opts.ports,
    authority,
    xds,
    ca: { authority, tokenVerifier: verifier, nodeView: view, onEvent: caEventLogger(logging.scope('ca')) },
  });
  return plane.started(serving, { authority: authority.rootCertsPem, rootCertPath, caCreated: created });
}

class ControlPlane {
  readonly #opts: ResolvedServeOptions;
  readonly #log: Logger;
  readonly #configLog: Logger;
  readonly #xds: DeltaXdsServer<Caller>;
  readonly #view: PlacementView;
  readonly #tokens: TokenFiles;
  readonly #listeners = new Set<(outcome: UpdateOutcome) => void>();
  #served: ServedConfig | undefined;
  #warned = new Set<string>();
  #lifecycle: Lifecycle = { state: 'serving' };
  #running: Promise<unknown> = Promise.resolve();
  #queued: Promise<UpdateOutcome> | undefined;
  #watcher: ConfigWatcher | undefined;
  #renewal: NodeJS.Timeout | undefined;
  #info: () => Promise<void> = async () => {};

  constructor(
    opts: ResolvedServeOptions,
    log: Logger,
    configLog: Logger,
    xds: DeltaXdsServer<Caller>,
    view: PlacementView,
    tokens: TokenFiles,
  ) {
    this.#opts = opts;
    this.#log = log;
    this.#configLog = configLog;
    this.#xds = xds;
    this.#view = view;
    this.#tokens = tokens;
  }

  /** Make `loaded` (free of errors) the served config: CA view, tokens, then the xDS delta. */
  async apply(loaded: LoadedConfig): Promise<UpdateOutcome> {
    const { translation } = loaded;
    const problems = loaded.problems;
    // warnings are logged once, not again on every re-read
    const fresh = problems.filter((p) => p.severity === 'warning' && !this.#warned.has(formatProblem(p)));
    if (this.#served !== undefined) logProblems(this.#configLog, fresh);
    const tokenPlan = planTokens(translation.placement, this.#opts.translate);
    for (const why of tokenPlan.skipped) if (!this.#warned.has(why)) this.#log.warn(`no token: ${why}`);
    this.#warned = new Set([...problems.map(formatProblem), ...tokenPlan.skipped]);

    const plan = planPush(this.#xds.cache, translation);
    this.#view.set(translation.placement);
    const synced = await this.#tokens.sync(tokenPlan.specs);
    this.#xds.update(...plan.updates);

    const unchanged =
      this.#served !== undefined && plan.size === 0 && synced.written.length + synced.removed.length === 0;
    if (unchanged) {
      this.#configLog.debug({ version: this.#served!.version }, 'YAML re-read: nothing changed');
      return { kind: 'unchanged', version: this.#served!.version, problems };
    }
    const version = (this.#served?.version ?? 0) + 1;
    this.#served = { version, files: loaded.files, translation, acceptedAt: new Date() };
    const counts = plan.changes.map((c) => `${c.typeUrl.split('.').pop()} +${c.upserted.length}/-${c.removed.length}`);
    if (version > 1) {
      this.#configLog.info(
        { version, pushed: plan.size, tokensWritten: synced.written, tokensRemoved: synced.removed },
        `config version ${version} accepted and pushed (${counts.length === 0 ? 'no resource changed' : counts.join(', ')})`,
      );
    }
    await this.#info();
    return { kind: 'accepted', version, changes: plan.changes, problems };
  }

  async #reload(): Promise<UpdateOutcome> {
    const loaded = await loadConfig(this.#opts.files, this.#opts.translateOptions);
    if (loaded.errors === 0) return this.apply(loaded);
    const served = this.#served!;
    logProblems(this.#configLog, loaded.problems);
    this.#configLog.error(
      { errors: loaded.errors, servingVersion: served.version },
      `update refused: the YAML has ${plural(loaded.errors, 'error')} (listed above with file:line); still serving config version ${served.version} accepted at ${served.acceptedAt.toISOString()}`,
    );
    return { kind: 'refused', version: served.version, errors: loaded.errors, problems: loaded.problems };
  }

  update(): Promise<UpdateOutcome> {
    if (this.#lifecycle.state !== 'serving')
      return Promise.reject(new ControlPlaneError('CLOSED', 'the control plane is closed'));
    if (this.#queued !== undefined) return this.#queued; // not started yet: it will read the newest files
    const run = this.#running.then(() => {
      this.#queued = undefined;
      return this.#reload();
    });
    this.#queued = run;
    this.#running = run.then(
      (outcome) => this.#notify(outcome),
      (error: unknown) => this.#configLog.error(`re-reading the YAML failed: ${(error as Error).message}`),
    );
    return run;
  }

  #notify(outcome: UpdateOutcome): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(outcome);
      } catch {
        // a listener's failure must not stop updates
      }
    }
  }

  async started(
    serving: Serving,
    ca: { authority: string; rootCertPath: string; caCreated: boolean },
  ): Promise<RunningControlPlane> {
    const opts = this.#opts;
    const infoPath = join(opts.stateDir, STATE_FILES.info);
    const running: RunningControlPlane = {
      host: opts.host,
      ports: serving.ports,
      addresses: {
        plaintext: `http://${formatHostPort(opts.host, serving.ports.plaintext)}`,
        tls: `https://${formatHostPort(opts.host, serving.ports.tls)}`,
      },
      stateDir: opts.stateDir,
      rootCertPem: ca.authority,
      rootCertPath: ca.rootCertPath,
      caCreated: ca.caCreated,
      serverNames: serving.serverNames,
      watching: 0,
      xds: this.#xds,
      served: () => this.#served!,
      tokenFor: (node) => this.#tokens.token(node),
      waypointTokenFor: (namespace, name) => this.#tokens.token(waypointTokenFile(namespace, name)),
      tokenPath: (file) => this.#tokens.path(file),
      tokens: () => this.#tokens.specs().map((s) => ({ kind: s.kind, key: s.key, path: this.#tokens.path(s.file) })),
      update: () => this.update(),
      onUpdate: (listener) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
      close: () => this.#close(serving, infoPath),
    };
    this.#info = () =>
      writeFileAtomic(
        infoPath,
        `${JSON.stringify(
          {
            pid: process.pid,
            host: running.host,
            ports: running.ports,
            addresses: running.addresses,
            rootCert: running.rootCertPath,
            configVersion: this.#served?.version,
            files: this.#served?.files,
            tokens: running.tokens(),
          },
          null,
          2,
        )}\n`,
      ).catch((error: unknown) => this.#log.warn(`cannot write ${infoPath}: ${(error as Error).message}`));
    if (opts.watch) {
      this.#watcher = new ConfigWatcher(opts.files, {
        debounceMs: opts.debounceMs,
        onChange: () => void this.update().catch(() => undefined),
        onError: (message) => this.#configLog.warn(message),
      });
      (running as { watching: number }).watching = this.#watcher.watching;
    }
    // tokens live tokenTtlSeconds: re-issue at half-life (proxies re-read the files on every request)
    this.#renewal = setInterval(
      () => {
        this.#running = this.#running.then(() =>
          this.#tokens
            .renewAll()
            .catch((error: unknown) => this.#log.error(`renewing tokens failed: ${String(error)}`)),
        );
      },
      (opts.tokenTtlSeconds * 1000) / 2,
    );
    this.#renewal.unref();
    await this.#info();
    const t = this.#served!.translation;
    this.#log.info(
      {
        plaintext: running.addresses.plaintext,
        tls: running.addresses.tls,
        stateDir: opts.stateDir,
        caRoot: ca.caCreated ? 'created' : 'reused',
        addresses: t.addresses.length,
        authorizations: t.authorizations.length,
        l7: t.l7.length,
        nodes: t.placement.nodes.length,
        tokens: running.tokens().length,
        watching: running.watching,
      },
      `serving xDS + CA on ${running.addresses.plaintext} and ${running.addresses.tls}`,
    );
    return running;
  }

  #close(serving: Serving, infoPath: string): Promise<void> {
    if (this.#lifecycle.state === 'closing') return this.#lifecycle.done;
    if (this.#lifecycle.state === 'closed') return Promise.resolve();
    const done = (async () => {
      this.#watcher?.close();
      clearInterval(this.#renewal);
      await this.#running.catch(() => undefined);
      await serving.close();
      await rm(infoPath, { force: true });
      this.#listeners.clear();
      this.#lifecycle = { state: 'closed' };
      this.#log.info('control plane stopped');
    })();
    this.#lifecycle = { state: 'closing', done };
    return done;
  }
}
