// ztunnel's redirection rules, installed with Debian's iptables, whichever flavour (nf_tables or legacy) works in
// the namespace: the in-pod rules (facts §9.3, Istio's in-pod script) inside a pod's namespace, and the
// dedicated-mode rule (facts §9.3, last bullet) inside the namespace a dedicated ztunnel shares with its workload.
import { CommandError, exec, run } from './exec.ts';

export type IptablesFlavour = 'nft' | 'legacy';

export interface Iptables {
  flavour: IptablesFlavour;
  /** The binaries to run: `iptables-nft`/`iptables-legacy` (or plain `iptables` when only that exists). */
  iptables: string;
  restore: string;
  /** What `<iptables> --version` printed, e.g. `iptables v1.8.9 (nf_tables)`. */
  version: string;
}

/** ztunnel's socket mark (1337) and the connmark for connections it opened towards the app; mask 0xfff. */
export const ZTUNNEL_MARK = '0x539/0xfff';
export const ORIG_SRC_CONNMARK = '0x111/0xfff';
/** Kubelet's health-probe SNAT address, never redirected. */
export const PROBE_ADDRESS = '169.254.7.127';

export interface InpodRuleOptions {
  /** Also redirect the pod's DNS (UDP and TCP port 53) to ztunnel's DNS proxy on 15053. Default false. */
  dns?: boolean;
}

/** The exact rules, in `iptables -S` syntax per table, plus the policy-routing commands (ip argv). */
export interface InpodRules {
  mangle: string[];
  nat: string[];
  routing: string[][];
}

/** The in-pod rules of facts §9.3, in order; pure. */
export function inpodRules(options: InpodRuleOptions = {}): InpodRules {
  const notMarked = `-m mark ! --mark ${ZTUNNEL_MARK}`;
  const dns = options.dns
    ? [
        `-A ISTIO_OUTPUT ! -o lo -p udp ${notMarked} -m udp --dport 53 -j REDIRECT --to-ports 15053`,
        `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -p tcp -m tcp --dport 53 ${notMarked} -j REDIRECT --to-ports 15053`,
      ]
    : [];
  return {
    mangle: [
      '-A PREROUTING -j ISTIO_PRERT',
      '-A OUTPUT -j ISTIO_OUTPUT',
      `-A ISTIO_OUTPUT -m connmark --mark ${ORIG_SRC_CONNMARK} -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
      `-A ISTIO_PRERT -m mark --mark ${ZTUNNEL_MARK} -j CONNMARK --set-xmark ${ORIG_SRC_CONNMARK}`,
    ],
    nat: [
      '-A PREROUTING -j ISTIO_PRERT',
      '-A OUTPUT -j ISTIO_OUTPUT',
      `-A ISTIO_OUTPUT -d ${PROBE_ADDRESS}/32 -p tcp -m tcp -j ACCEPT`,
      ...dns,
      `-A ISTIO_OUTPUT -p tcp -m mark --mark ${ORIG_SRC_CONNMARK} -j ACCEPT`,
      '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -j ACCEPT',
      `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -p tcp ${notMarked} -j REDIRECT --to-ports 15001`,
      `-A ISTIO_PRERT -s ${PROBE_ADDRESS}/32 -p tcp -m tcp -j ACCEPT`,
      `-A ISTIO_PRERT ! -d 127.0.0.1/32 -p tcp -m tcp ! --dport 15008 ${notMarked} -j REDIRECT --to-ports 15006`,
    ],
    routing: [
      ['route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100'],
      ['rule', 'add', 'fwmark', ORIG_SRC_CONNMARK, 'pref', '32764', 'lookup', '100'],
    ],
  };
}

/** The rules as one printable text (iptables-save style tables, then the ip commands). */
export function formatRules(rules: InpodRules): string {
  return [
    '*mangle',
    ...rules.mangle,
    '*nat',
    ...rules.nat,
    ...rules.routing.map((argv) => `ip ${argv.join(' ')}`),
  ].join('\n');
}

const flavours = new Map<string, Promise<Iptables>>();

/**
 * Finds an iptables that works inside the namespace: the flavour plain `iptables` reports first
 * (`(nf_tables)` or `(legacy)`), then the other one. Rejects naming what was tried when none works.
 */
export function detectIptables(namespace: string): Promise<Iptables> {
  let found = flavours.get(namespace);
  if (!found) {
    found = detect(namespace);
    flavours.set(namespace, found);
    found.catch(() => flavours.delete(namespace));
  }
  return found;
}

async function detect(namespace: string): Promise<Iptables> {
  const flavourOf = (version: string): IptablesFlavour | undefined =>
    version.includes('(nf_tables)') ? 'nft' : version.includes('(legacy)') ? 'legacy' : undefined;
  const preferred = await run(['iptables', '--version']).then(
    ({ stdout }) => flavourOf(stdout),
    () => undefined,
  );
  const order: IptablesFlavour[] = preferred === 'legacy' ? ['legacy', 'nft'] : ['nft', 'legacy'];
  const problems: string[] = [];
  for (const flavour of order) {
    for (const [iptables, restore] of [
      [`iptables-${flavour}`, `iptables-${flavour}-restore`],
      ['iptables', 'iptables-restore'],
    ] as const) {
      try {
        const { stdout } = await run([iptables, '--version']);
        if (flavourOf(stdout) !== flavour) continue;
        await exec(namespace, [iptables, '-w', '-t', 'nat', '-S']);
        return { flavour, iptables, restore, version: stdout.trim() };
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
  }
  throw new Error(
    `no working iptables in namespace ${namespace} (install Debian's iptables package; tried nft and legacy): ${problems.join('; ')}`,
  );
}

export interface InstalledRules extends InpodRules {
  iptables: Iptables;
}

/**
 * Installs the in-pod rules in the namespace (replacing ours if already there) with one iptables-restore
 * (--noflush: other rules in the namespace stay), then the policy routing. Returns exactly what it installed.
 */
export async function installInpodRules(namespace: string, options: InpodRuleOptions = {}): Promise<InstalledRules> {
  const iptables = await detectIptables(namespace);
  await removeInpodRules(namespace);
  const rules = inpodRules(options);
  const table = (name: string, lines: string[]): string[] => [
    `*${name}`,
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_PRERT - [0:0]',
    ...lines,
    'COMMIT',
  ];
  const input = [...table('mangle', rules.mangle), ...table('nat', rules.nat), ''].join('\n');
  await exec(namespace, [iptables.restore, '-w', '--noflush'], { input });
  for (const argv of rules.routing) await run(['ip', '-n', namespace, ...argv]);
  return { ...rules, iptables };
}

/** Removes the in-pod rules and policy routing from the namespace; a no-op for what is not there. */
export async function removeInpodRules(namespace: string): Promise<void> {
  const { iptables } = await detectIptables(namespace);
  const quietly = (argv: string[]): Promise<unknown> =>
    exec(namespace, [iptables, '-w', ...argv]).catch((error: unknown) => {
      if (!(error instanceof CommandError)) throw error;
    });
  for (const table of ['mangle', 'nat']) {
    await quietly(['-t', table, '-D', 'PREROUTING', '-j', 'ISTIO_PRERT']);
    await quietly(['-t', table, '-D', 'OUTPUT', '-j', 'ISTIO_OUTPUT']);
    for (const chain of ['ISTIO_PRERT', 'ISTIO_OUTPUT']) {
      await quietly(['-t', table, '-F', chain]);
      await quietly(['-t', table, '-X', chain]);
    }
  }
  await run([
    'ip',
    '-n',
    namespace,
    'rule',
    'del',
    'fwmark',
    ORIG_SRC_CONNMARK,
    'pref',
    '32764',
    'lookup',
    '100',
  ]).catch(() => undefined);
  await run(['ip', '-n', namespace, 'route', 'del', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100']).catch(
    () => undefined,
  );
}

/**
 * What is installed now, in the same shape as `inpodRules()`: the `iptables -S` lines of the two tables that
 * belong to ztunnel (its chains and the jumps into them), so a test can compare them with what it asked for.
 */
export async function listInpodRules(namespace: string): Promise<{ mangle: string[]; nat: string[] }> {
  const { iptables } = await detectIptables(namespace);
  const ours = async (table: string): Promise<string[]> => {
    const { stdout } = await exec(namespace, [iptables, '-w', '-t', table, '-S']);
    return stdout.split('\n').filter((line) => line.startsWith('-A ') && line.includes('ISTIO_'));
  };
  return { mangle: await ours('mangle'), nat: await ours('nat') };
}

/** ztunnel's outbound capture port (facts §1.1). */
export const OUTBOUND_CAPTURE_PORT = 15001;

/**
 * The dedicated-mode rule of facts §9.3 (Istio's dedicated-mode redirect script), in `iptables -S` syntax: every
 * TCP connection this namespace opens that does not leave through `lo` and is not marked 0x539/0xfff (ztunnel's
 * own sockets) is redirected to 15001. Pure.
 */
export function dedicatedRules(): { nat: string[] } {
  return {
    nat: [`-A OUTPUT ! -o lo -p tcp -m mark ! --mark ${ZTUNNEL_MARK} -j REDIRECT --to-ports ${OUTBOUND_CAPTURE_PORT}`],
  };
}

export interface InstalledDedicatedRules {
  nat: string[];
  iptables: Iptables;
}

const isDedicatedRule = (line: string): boolean =>
  line.startsWith('-A OUTPUT ') && line.includes(`-j REDIRECT --to-ports ${OUTBOUND_CAPTURE_PORT}`);

/**
 * Installs the dedicated-mode rule in the namespace's nat OUTPUT chain (replacing ours if already there). Unlike
 * Istio's script it does not flush nat OUTPUT first: other rules in the namespace stay. Returns what it installed.
 */
export async function installDedicatedRules(namespace: string): Promise<InstalledDedicatedRules> {
  const iptables = await detectIptables(namespace);
  await removeDedicatedRules(namespace);
  const rules = dedicatedRules();
  for (const rule of rules.nat) await exec(namespace, [iptables.iptables, '-w', '-t', 'nat', ...rule.split(' ')]);
  return { ...rules, iptables };
}

/** What of the dedicated-mode rule is installed now (nat OUTPUT lines redirecting to 15001, `iptables -S` syntax). */
export async function listDedicatedRules(namespace: string): Promise<{ nat: string[] }> {
  const { iptables } = await detectIptables(namespace);
  const { stdout } = await exec(namespace, [iptables, '-w', '-t', 'nat', '-S', 'OUTPUT']);
  return { nat: stdout.split('\n').filter(isDedicatedRule) };
}

/** Removes every nat OUTPUT rule redirecting to 15001 from the namespace; a no-op when there is none. */
export async function removeDedicatedRules(namespace: string): Promise<void> {
  const { iptables } = await detectIptables(namespace);
  for (const line of (await listDedicatedRules(namespace)).nat) {
    await exec(namespace, [iptables, '-w', '-t', 'nat', '-D', ...line.slice('-A '.length).split(' ')]);
  }
}
