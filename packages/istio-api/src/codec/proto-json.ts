// protobufjs message -> proto3 JSON mapping (lowerCamelCase names, enums by name, bytes base64,
// 64-bit integers as strings, defaults omitted, well-known types in their special JSON forms).
// Written against the descriptor by reflection so every message shape follows the same rules.
import protobuf from 'protobufjs';
import { bytesToBase64 } from './base64.ts';
import type { JsonValue } from './wkt-json.ts';
import { hasSpecialJson, isWrapperType, typeForUrl } from './registry.ts';

export type JsonObject = { [key: string]: JsonValue };

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const FLOAT = new Set(['double', 'float']);

type Msg = Record<string, unknown>;

function has(message: Msg, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, name) && message[name] != null;
}

function scalarToJson(type: string, value: unknown): JsonValue {
  if (INT64.has(type)) return String(value);
  if (type === 'bytes') return bytesToBase64(value as Uint8Array);
  if (FLOAT.has(type)) {
    const n = value as number;
    if (Number.isNaN(n)) return 'NaN';
    if (n === Infinity) return 'Infinity';
    if (n === -Infinity) return '-Infinity';
    return n;
  }
  return value as JsonValue;
}

function isDefaultScalar(type: string, value: unknown): boolean {
  if (type === 'bytes') return (value as Uint8Array).length === 0;
  if (type === 'string') return value === '';
  if (type === 'bool') return value === false;
  if (INT64.has(type)) return String(value) === '0';
  return value === 0;
}

function valueToJson(field: protobuf.Field, value: unknown): JsonValue {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const name = resolved.valuesById[value as number];
    return name ?? (value as number);
  }
  if (resolved instanceof protobuf.Type) return messageToJson(resolved, value as Msg);
  return scalarToJson(field.type, value);
}

/** The proto3 JSON object of one decoded protobufjs message of `type`. */
export function messageToJson(type: protobuf.Type, message: Msg): JsonValue {
  const special = wellKnownToJson(type, message);
  if (special !== undefined) return special;
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (field.map) {
      const entries = mapEntries(value);
      if (entries.length === 0) continue;
      const map: JsonObject = {};
      for (const [key, entry] of entries) setKey(map, key, valueToJson(field, entry));
      out[field.name] = map;
    } else if (field.repeated) {
      const list = (value ?? []) as unknown[];
      if (list.length === 0) continue;
      out[field.name] = list.map((item) => valueToJson(field, item));
    } else if (field.partOf || field.resolvedType instanceof protobuf.Type) {
      // oneof members, proto3 `optional` and sub-messages have presence: emit when set, even if default
      if (!has(message, field.name)) continue;
      out[field.name] = valueToJson(field, value);
    } else {
      if (value == null) continue;
      const enumDefault = field.resolvedType instanceof protobuf.Enum && value === 0;
      if (enumDefault || (!(field.resolvedType instanceof protobuf.Enum) && isDefaultScalar(field.type, value)))
        continue;
      out[field.name] = valueToJson(field, value);
    }
  }
  return out;
}

/** Own entries, plus a `__proto__` key that protobufjs' decoder stored as the prototype. */
function mapEntries(value: unknown): [string, unknown][] {
  if (value == null) return [];
  const entries = Object.entries(value as Record<string, unknown>);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null && typeof proto === 'object') entries.push(['__proto__', proto]);
  return entries;
}

/** Assign without triggering the `__proto__` setter. */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function wellKnownToJson(type: protobuf.Type, message: Msg): JsonValue | undefined {
  const name = type.fullName;
  if (isWrapperType(type)) {
    const field = type.fields['value']!;
    const value = message['value'] ?? field.defaultValue ?? (field.type === 'bytes' ? new Uint8Array() : 0);
    return scalarToJson(field.type, value ?? 0);
  }
  switch (name) {
    case '.google.protobuf.Empty':
      return {};
    case '.google.protobuf.Any':
      return anyToJson(String(message['type_url'] ?? ''), (message['value'] ?? new Uint8Array()) as Uint8Array);
    case '.google.protobuf.Struct':
      return structToJson(message);
    case '.google.protobuf.Value':
      return structValueToJson(message);
    case '.google.protobuf.ListValue':
      return ((message['values'] ?? []) as Msg[]).map(structValueToJson);
    case '.google.protobuf.Duration':
      return durationToJson(message);
    default:
      return undefined;
  }
}

/** `{"@type": url, ...fields}`; a payload of a type we do not know keeps its bytes as base64 `value`. */
export function anyToJson(typeUrl: string, value: Uint8Array): JsonValue {
  const inner = typeForUrl(typeUrl);
  if (!inner) return { '@type': typeUrl, value: bytesToBase64(value) };
  const json = messageToJson(inner, inner.decode(value) as unknown as Msg);
  if (!hasSpecialJson(inner) && json !== null && typeof json === 'object' && !Array.isArray(json)) {
    return { '@type': typeUrl, ...json };
  }
  return { '@type': typeUrl, value: json };
}

function structToJson(message: Msg): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries((message['fields'] ?? {}) as Record<string, Msg>)) {
    out[key] = structValueToJson(value);
  }
  return out;
}

function structValueToJson(value: Msg): JsonValue {
  if (has(value, 'numberValue')) return value['numberValue'] as number;
  if (has(value, 'stringValue')) return value['stringValue'] as string;
  if (has(value, 'boolValue')) return value['boolValue'] as boolean;
  if (has(value, 'structValue')) return structToJson(value['structValue'] as Msg);
  if (has(value, 'listValue'))
    return (((value['listValue'] as Msg)['values'] as Msg[] | undefined) ?? []).map(structValueToJson);
  return null;
}

function durationToJson(message: Msg): string {
  const seconds = BigInt(String(message['seconds'] ?? 0));
  const nanos = Number(message['nanos'] ?? 0);
  if (nanos === 0) return `${seconds}s`;
  const negative = seconds < 0n || nanos < 0;
  const abs = (seconds < 0n ? -seconds : seconds).toString();
  const frac = String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs}.${frac}s`;
}
