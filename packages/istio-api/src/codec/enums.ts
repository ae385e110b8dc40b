// Enum names and numbers from the generated schema, so callers can tell a known value from an unknown one.
import { enumValues } from '../generated/schema.ts';

export type EnumFullName = keyof typeof enumValues;
/** The value names of an enum, e.g. EnumNames<'istio.security.Action'> = 'ALLOW' | 'DENY'. */
export type EnumNames<E extends EnumFullName> = keyof (typeof enumValues)[E] & string;

/**
 * The name of an enum value as proto3 JSON carries it (a name, or a number when it was unknown to the
 * sender's schema): the default (0) name when absent, undefined when the value is not in this schema.
 */
export function enumName<E extends EnumFullName>(
  enumType: E,
  value: string | number | undefined,
): EnumNames<E> | undefined {
  const values = enumValues[enumType] as Readonly<Record<string, number>>;
  const entries = Object.entries(values);
  const wanted = value ?? 0;
  for (const [name, number] of entries) {
    if (name === wanted || number === wanted) return name as EnumNames<E>;
  }
  return undefined;
}

/** The names of an enum in number order. */
export function enumNames<E extends EnumFullName>(enumType: E): readonly EnumNames<E>[] {
  const values = enumValues[enumType] as Readonly<Record<string, number>>;
  return Object.entries(values)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name as EnumNames<E>);
}
