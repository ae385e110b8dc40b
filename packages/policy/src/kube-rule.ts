// One `spec.rules[i]` of a Kubernetes AuthorizationPolicy → a model Rule.
// Bad parts follow Istio's fail-safe rule (pilot/pkg/security/authz/model/model.go checkError): in an
// ALLOW policy the whole rule is dropped (stricter); in DENY/AUDIT/CUSTOM only the bad part is ignored
// (broader). Stricter than Istio where Istio would narrow a DENY: a bad value in a positive list drops the
// whole condition (not just the value), and an unknown `when` key drops only that condition (Istio skips
// the whole DENY rule).
import { operationFields, sourceFields, whenSpec, type FieldSpec } from './kube-fields.ts';
import type { Compiled } from './kube-values.ts';
import type { Clause, Condition, Match, PolicyAction, Rule } from './model.ts';
import { describe, formatPath, isRecord, type Path, type Problems } from './problems.ts';

interface Ctx {
  readonly problems: Problems;
  readonly action: PolicyAction;
  readonly namespace: string;
  /** Set on the first error: an ALLOW rule is then dropped. */
  bad?: string;
}

function report(ctx: Ctx, path: Path, message: string, scope: 'condition' | undefined = undefined): void {
  const effect =
    ctx.action === 'ALLOW'
      ? 'rule dropped: an ALLOW rule that cannot be understood never matches (fails closed)'
      : scope === 'condition'
        ? `this whole condition is ignored: the ${ctx.action} rule becomes broader (fails closed)`
        : `ignored: the ${ctx.action} rule becomes broader (fails closed)`;
  ctx.problems.error(path, message, effect);
  ctx.bad ??= `${formatPath(path)}: ${message}`;
}

function compileField(raw: unknown, path: Path, field: FieldSpec, negated: boolean, ctx: Ctx): Condition | undefined {
  if (!Array.isArray(raw)) {
    report(ctx, path, `expected a list of strings, found ${describe(raw)}`);
    return undefined;
  }
  if (field.attribute === 'source.serviceAccount' && raw.length > 16) {
    report(ctx, path, 'may not have more than 16 service accounts');
    return undefined;
  }
  const compiled: unknown[] = [];
  let failed = false;
  raw.forEach((value: unknown, index) => {
    const at = [...path, index];
    const usable = typeof value === 'string' || (field.numbers && typeof value === 'number');
    const result: Compiled<unknown> = !usable
      ? { ok: false, reason: `expected a string, found ${describe(value)}` }
      : value === ''
        ? { ok: false, reason: 'empty value not allowed' }
        : field.compile(value as string, ctx.namespace);
    if (!result.ok) {
      failed = true;
      // A bad value in a positive list drops the whole condition (the value might have widened it);
      // in a negative list only the value (fewer exclusions). Both make a DENY broader.
      return report(ctx, at, result.reason, negated ? undefined : 'condition');
    }
    if (result.warning) ctx.problems.warn(at, result.warning);
    compiled.push(result.value);
  });
  if (compiled.length === 0 || (failed && !negated)) return undefined;
  return {
    attribute: field.attribute,
    negated,
    l4: field.l4,
    httpOnly: field.httpOnly,
    field: formatPath(path),
    values: compiled,
    ...field.extra,
  } as Condition;
}

/** A `source` or `operation` object → one Match (its fields ANDed). */
function compileEntry(raw: unknown, path: Path, fields: Record<string, FieldSpec>, what: string, ctx: Ctx): Match {
  const conditions: Condition[] = [];
  if (!isRecord(raw)) {
    report(ctx, path, `\`${what}\` must be an object, found ${describe(raw)}`);
    return { field: formatPath(path), conditions };
  }
  let used = 0;
  for (const [key, value] of Object.entries(raw)) {
    const negated = key.startsWith('not') && key.length > 3;
    const base = negated ? key[3]!.toLowerCase() + key.slice(4) : key;
    const field = fields[base];
    if (!field) {
      report(ctx, [...path, key], `unknown field ${JSON.stringify(key)} in \`${what}\``);
      continue;
    }
    if (Array.isArray(value) && value.length > 0) used++;
    const condition = compileField(value, [...path, key], field, negated, ctx);
    if (condition) conditions.push(condition);
  }
  if (used === 0) report(ctx, path, `\`${what}\` must not be empty`);
  if (what === 'from.source') {
    const has = (k: string) => Array.isArray(raw[k]) && (raw[k] as unknown[]).length > 0;
    if (
      (has('serviceAccounts') || has('notServiceAccounts')) &&
      ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].some(has)
    ) {
      report(ctx, path, 'cannot set serviceAccounts with namespaces or principals');
    }
  }
  return { field: formatPath(path), conditions };
}

function compileList(
  raw: unknown,
  path: Path,
  inner: string,
  fields: Record<string, FieldSpec>,
  kind: 'from' | 'to',
  ctx: Ctx,
): Clause | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    report(
      ctx,
      path,
      Array.isArray(raw) ? `\`${kind}\` must not be empty` : `\`${kind}\` must be a list, found ${describe(raw)}`,
    );
    return undefined;
  }
  const matches = raw.map((entry: unknown, index) => {
    const at = [...path, index];
    if (!isRecord(entry)) return compileEntry(entry, at, fields, `${kind}.${inner}`, ctx);
    for (const key of Object.keys(entry))
      if (key !== inner) report(ctx, [...at, key], `unknown field ${JSON.stringify(key)} in \`${kind}\``);
    if (entry[inner] === undefined || entry[inner] === null) {
      report(ctx, [...at, inner], `\`${kind}.${inner}\` must not be nil`);
      return { field: formatPath([...at, inner]), conditions: [] };
    }
    return compileEntry(entry[inner], [...at, inner], fields, `${kind}.${inner}`, ctx);
  });
  return { kind, field: formatPath(path), matches };
}

function compileWhen(raw: unknown, path: Path, ctx: Ctx): Clause | undefined {
  if (!isRecord(raw)) {
    report(ctx, path, `a \`when\` condition must be an object, found ${describe(raw)}`);
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'key' && key !== 'values' && key !== 'notValues')
      report(ctx, [...path, key], `unknown field ${JSON.stringify(key)} in \`when\``);
  }
  const key = raw['key'];
  if (typeof key !== 'string' || key === '') {
    report(ctx, [...path, 'key'], '`key` must not be empty');
    return undefined;
  }
  const field = whenSpec(key);
  if (typeof field === 'string') {
    report(ctx, [...path, 'key'], field);
    return undefined;
  }
  const present = (k: string) => Array.isArray(raw[k]) && (raw[k] as unknown[]).length > 0;
  if (!present('values') && !present('notValues')) {
    report(ctx, path, `at least one of \`values\` or \`notValues\` must be set for key ${key}`);
    return undefined;
  }
  const conditions: Condition[] = [];
  for (const [name, negated] of [
    ['values', false],
    ['notValues', true],
  ] as const) {
    if (raw[name] === undefined) continue;
    const condition = compileField(raw[name], [...path, name], field, negated, ctx);
    if (condition) conditions.push(condition);
  }
  return { kind: 'when', field: formatPath(path), matches: [{ field: formatPath(path), conditions }] };
}

export function compileRule(
  raw: unknown,
  index: number,
  rulesPath: Path,
  problems: Problems,
  action: PolicyAction,
  namespace: string,
): Rule {
  const path = [...rulesPath, index];
  const ctx: Ctx = { problems, action, namespace };
  const clauses: Clause[] = [];
  if (!isRecord(raw)) {
    report(ctx, path, `\`rule\` must be an object, found ${describe(raw)}`);
  } else {
    for (const key of Object.keys(raw)) {
      if (key !== 'from' && key !== 'to' && key !== 'when')
        report(ctx, [...path, key], `unknown field ${JSON.stringify(key)} in a rule`);
    }
    if (raw['from'] !== undefined) {
      const clause = compileList(raw['from'], [...path, 'from'], 'source', sourceFields, 'from', ctx);
      if (clause) clauses.push(clause);
    }
    if (raw['to'] !== undefined) {
      const clause = compileList(raw['to'], [...path, 'to'], 'operation', operationFields, 'to', ctx);
      if (clause) clauses.push(clause);
    }
    if (raw['when'] !== undefined) {
      if (!Array.isArray(raw['when']))
        report(ctx, [...path, 'when'], `\`when\` must be a list, found ${describe(raw['when'])}`);
      else
        raw['when'].forEach((when: unknown, i) => {
          const clause = compileWhen(when, [...path, 'when', i], ctx);
          if (clause) clauses.push(clause);
        });
    }
  }
  const conditions = clauses.flatMap((clause) => clause.matches.flatMap((match) => match.conditions));
  return {
    index,
    field: formatPath(path),
    clauses,
    hasHttpOnly: conditions.some((condition) => condition.httpOnly),
    hasNonL4: conditions.some((condition) => !condition.l4),
    ...(action === 'ALLOW' && ctx.bad && { dropped: `dropped at load: ${ctx.bad}` }),
  };
}
