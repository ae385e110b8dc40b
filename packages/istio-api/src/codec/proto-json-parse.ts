// proto3 JSON -> a plain object protobufjs can encode. Accepts lowerCamelCase and original field
// names, enum names or numbers, standard or URL-safe base64, 64-bit integers as strings or numbers.
// Default-valued fields without presence are dropped so the bytes match other proto3 encoders.
import protobuf from 'protobufjs';
import { IstioApiError } from '../errors.ts';
import { base64ToBytes } from './base64.ts';
import { setKey } from './proto-json.ts';
import { hasSpecialJson, isWrapperType, typeForUrl } from './registry.ts';

type Msg = Record<string, unknown>;

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);
const WRAPPER_PREFIX = '.google.protobuf.';

const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldsByJsonName(type: protobuf.Type): Map<string, protobuf.Field> {
  let index = fieldIndex.get(type);
  if (!index) {
    index = new Map();
    for (const field of type.fieldsArray) {
      index.set(field.name, field);
      index.set(
        field.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
        field,
      );
    }
    fieldIndex.set(type, index);
  }
  return index;
}

function fail(path: string, reason: string): never {
  throw new IstioApiError('CODEC_INVALID_JSON', `${path}: ${reason}`);
}

function isObject(value: unknown): value is Msg {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function parseInteger(value: unknown, path: string, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    fail(path, `expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

function parseScalar(type: string, value: unknown, path: string): unknown {
  if (INT32.has(type)) return parseInteger(value, path, -2147483648, 2147483647);
  if (UINT32.has(type)) return parseInteger(value, path, 0, 4294967295);
  if (INT64.has(type) || UINT64.has(type)) {
    const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
    if (typeof text !== 'string' || !/^-?\d+$/.test(text))
      fail(path, `expected a 64-bit integer, got ${JSON.stringify(value)}`);
    const big = BigInt(text);
    if (UINT64.has(type) ? big < 0n || big >= 1n << 64n : big < -(1n << 63n) || big >= 1n << 63n)
      fail(path, 'out of range');
    return text; // protobufjs writers take decimal strings for 64-bit fields
  }
  if (type === 'double' || type === 'float') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || Number.isNaN(n)) fail(path, `expected a number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') fail(path, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }
  if (type === 'string') {
    if (typeof value !== 'string') fail(path, `expected a string, got ${JSON.stringify(value)}`);
    return value;
  }
  if (type === 'bytes') {
    if (value instanceof Uint8Array) return value;
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) fail(path, 'expected base64 bytes');
    return base64ToBytes(value);
  }
  return fail(path, `unsupported field type ${type}`);
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.resolvedType instanceof protobuf.Enum) return value === 0;
  if (field.type === 'bytes') return (value as Uint8Array).length === 0;
  if (field.type === 'string') return value === '';
  if (field.type === 'bool') return value === false;
  if (typeof value === 'object' && value !== null) return String(value) === '0';
  return value === 0 && !Object.is(value, -0);
}

function parseValue(field: protobuf.Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string') {
      const n = resolved.values[value];
      if (n === undefined) fail(path, `unknown ${resolved.name} value "${value}"`);
      return n;
    }
    return parseInteger(value, path, -2147483648, 2147483647);
  }
  if (resolved instanceof protobuf.Type) return jsonToMessage(resolved, value, path);
  return parseScalar(field.type, value, path);
}

/** A plain object for `type.encode`, from its proto3 JSON form. Throws IstioApiError CODEC_INVALID_JSON. */
export function jsonToMessage(type: protobuf.Type, json: unknown, path: string = type.name): Msg {
  const special = wellKnownFromJson(type, json, path);
  if (special !== undefined) return special;
  if (!isObject(json)) fail(path, `expected an object for ${type.name}`);
  const index = fieldsByJsonName(type);
  const out: Msg = {};
  const oneofSeen = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const field = index.get(key);
    const at = `${path}.${key}`;
    if (!field) fail(at, `unknown field of ${type.name}`);
    if (value === null || value === undefined) continue;
    if (field.map) {
      if (!isObject(value)) fail(at, 'expected an object (map)');
      const map: Msg = {};
      for (const [k, v] of Object.entries(value)) setKey(map, k, parseValue(field, v, `${at}[${JSON.stringify(k)}]`));
      if (Object.keys(map).length > 0) out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value)) fail(at, 'expected an array');
      if (value.length > 0) out[field.name] = value.map((item, i) => parseValue(field, item, `${at}[${i}]`));
    } else {
      const parsed = parseValue(field, value, at);
      if (field.partOf) {
        const other = oneofSeen.get(field.partOf.name);
        if (other !== undefined)
          fail(at, `only one of ${other} and ${field.name} may be set (oneof ${field.partOf.name})`);
        oneofSeen.set(field.partOf.name, field.name);
        out[field.name] = parsed;
      } else if (field.resolvedType instanceof protobuf.Type || !isDefault(field, parsed)) {
        out[field.name] = parsed;
      }
    }
  }
  return out;
}

function wellKnownFromJson(type: protobuf.Type, json: unknown, path: string): Msg | undefined {
  const name = type.fullName.startsWith(WRAPPER_PREFIX) ? type.fullName.slice(WRAPPER_PREFIX.length) : '';
  if (name === '') return undefined;
  if (isWrapperType(type)) {
    const field = type.fields['value']!;
    const value = parseScalar(field.type, json, path);
    return isDefault(field, value) ? {} : { value };
  }
  switch (name) {
    case 'Empty':
      if (!isObject(json)) fail(path, 'expected {} for google.protobuf.Empty');
      return {};
    case 'Any':
      return anyFromJson(json, path);
    case 'Duration':
      return durationFromJson(json, path);
    case 'Struct':
      if (!isObject(json)) fail(path, 'expected an object for google.protobuf.Struct');
      return structFromJson(json);
    case 'Value':
      return structValueFromJson(json);
    default:
      return undefined;
  }
}

function anyFromJson(json: unknown, path: string): Msg {
  if (!isObject(json) || typeof json['@type'] !== 'string')
    fail(path, 'expected {"@type": ...} for google.protobuf.Any');
  const typeUrl = json['@type'];
  const inner = typeForUrl(typeUrl);
  const { '@type': _ignored, ...rest } = json;
  if (!inner) {
    if (typeof rest['value'] !== 'string') fail(path, `unknown Any type ${typeUrl}: give its bytes as base64 "value"`);
    return { type_url: typeUrl, value: parseScalar('bytes', rest['value'], `${path}.value`) };
  }
  const body = hasSpecialJson(inner) ? rest['value'] : rest;
  const message = jsonToMessage(inner, body, path);
  return { type_url: typeUrl, value: inner.encode(message).finish() };
}

function durationFromJson(json: unknown, path: string): Msg {
  const match = typeof json === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(json) : null;
  if (!match) fail(path, 'expected a duration like "1.5s"');
  const sign = match[1] ? -1 : 1;
  const nanos = match[3] ? Number(match[3].padEnd(9, '0')) * sign : 0;
  const seconds = match[1] ? `-${match[2]}` : match[2]!;
  const out: Msg = {};
  if (seconds !== '0' && seconds !== '-0') out['seconds'] = parseScalar('int64', seconds, path);
  if (nanos !== 0) out['nanos'] = nanos;
  return out;
}

export function structFromJson(json: Msg): Msg {
  const fields: Msg = {};
  for (const [key, value] of Object.entries(json)) setKey(fields, key, structValueFromJson(value));
  return { fields };
}

function structValueFromJson(value: unknown): Msg {
  if (value === null || value === undefined) return { nullValue: 0 };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(structValueFromJson) } };
  return { structValue: structFromJson(value as Msg) };
}
