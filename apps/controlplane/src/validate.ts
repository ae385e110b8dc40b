// `controlplane validate FILE...`: every problem as `file:line: Kind ns/name: …`, then what translated.
// Exit status 1 when any problem is an error.
import { parseTranslateArgs } from './cli-options.ts';
import { ControlPlaneError } from './errors.ts';
import { loadYamlFiles } from './load/files.ts';
import { formatProblem, sortProblems } from './translate/problems.ts';
import { translate, type Translation } from './translate/translate.ts';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summarize(t: Translation): string[] {
  const workloads = t.addresses.filter((a) => 'workload' in a.resource).length;
  const services = t.addresses.length - workloads;
  const l7 = t.l7.reduce<Record<string, number>>((acc, r) => {
    const kind = r.name.split('/')[0]!;
    acc[kind] = (acc[kind] ?? 0) + 1;
    return acc;
  }, {});
  const l7Text = Object.entries(l7)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  const nodes = t.placement.nodes.map(
    (n) =>
      `${n} (${plural(t.placement.identitiesByNode.get(n)?.size ?? 0, 'identity').replace('identitys', 'identities')})`,
  );
  const lines = [
    `translated: ${plural(workloads, 'workload')}, ${plural(services, 'service')}, ${plural(t.authorizations.length, 'authorization')} for ztunnel; ${plural(t.l7.length, 'object')} for waypoints${l7Text === '' ? '' : ` (${l7Text})`}`,
    `nodes: ${nodes.length === 0 ? 'none' : nodes.join(', ')}`,
  ];
  if (t.skipped.length > 0) lines.push(`skipped: ${t.skipped.map((s) => `${s.kind} ${s.name}`).join(', ')}`);
  return lines;
}

export async function runValidate(args: readonly string[], io: Output): Promise<number> {
  const { options, files } = parseTranslateArgs(args);
  if (files.length === 0) throw new ControlPlaneError('USAGE', 'validate needs at least one YAML file');
  const loaded = await loadYamlFiles(files);
  const translation = translate(loaded.objects, options);
  const problems = sortProblems([...loaded.problems, ...translation.problems]);
  for (const problem of problems) io.out(formatProblem(problem));
  for (const line of summarize(translation)) io.out(line);
  const errors = problems.filter((p) => p.severity === 'error').length;
  io.out(
    `result: ${plural(errors, 'error')}, ${plural(problems.length - errors, 'warning')}${errors > 0 ? ' (objects with errors were rejected)' : ''}`,
  );
  return errors > 0 ? 1 : 0;
}
