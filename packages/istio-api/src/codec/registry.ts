// The one place protobufjs meets our schemas: the generated descriptor, type lookups, type URLs.
import protobuf from 'protobufjs';
import { descriptor } from '../generated/descriptor.ts';

export const TYPE_URL_PREFIX = 'type.googleapis.com/';
export const ADDRESS_TYPE_URL = 'type.googleapis.com/istio.workload.Address';
export const WORKLOAD_TYPE_URL = 'type.googleapis.com/istio.workload.Workload';
export const SERVICE_TYPE_URL = 'type.googleapis.com/istio.workload.Service';
export const AUTHORIZATION_TYPE_URL = 'type.googleapis.com/istio.security.Authorization';

export const protoRoot: protobuf.Root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);

const byName = new Map<string, protobuf.Type | null>();

/** The message type named by a full name (`istio.workload.Address`), or undefined. */
export function lookupMessageType(fullName: string): protobuf.Type | undefined {
  let found = byName.get(fullName);
  if (found === undefined) {
    try {
      const candidate = fullName === '' ? null : protoRoot.lookup(fullName);
      found = candidate instanceof protobuf.Type ? candidate : null;
    } catch {
      found = null;
    }
    byName.set(fullName, found);
  }
  return found ?? undefined;
}

/** The message type a type URL names (anything after the last `/`), or undefined. */
export function typeForUrl(typeUrl: string): protobuf.Type | undefined {
  const slash = typeUrl.lastIndexOf('/');
  return lookupMessageType(slash >= 0 ? typeUrl.slice(slash + 1) : typeUrl);
}

export function typeUrlOf(type: protobuf.Type): string {
  return TYPE_URL_PREFIX + type.fullName.replace(/^\./, '');
}

const WRAPPERS = new Set(
  [
    'DoubleValue',
    'FloatValue',
    'Int64Value',
    'UInt64Value',
    'Int32Value',
    'UInt32Value',
    'BoolValue',
    'StringValue',
    'BytesValue',
  ].map((name) => `.google.protobuf.${name}`),
);
const SPECIAL_JSON = new Set([
  ...['Any', 'Duration', 'Empty', 'Struct', 'Value', 'ListValue'].map((name) => `.google.protobuf.${name}`),
  ...WRAPPERS,
]);

/** google.protobuf.*Value wrappers: their proto3 JSON is the bare scalar. */
export function isWrapperType(type: protobuf.Type): boolean {
  return WRAPPERS.has(type.fullName);
}

/** Well-known types whose proto3 JSON is not an object of fields (inside Any they go under "value"). */
export function hasSpecialJson(type: protobuf.Type): boolean {
  return SPECIAL_JSON.has(type.fullName);
}
