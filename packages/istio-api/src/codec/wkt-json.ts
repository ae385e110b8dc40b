// The proto3 JSON forms of the Google well-known types the Istio messages use, as this package's codecs
// read and write them (proto-json.ts / proto-json-parse.ts); the generated message types refer to them.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** google.protobuf.Any: `{"@type": url, ...fields}` (a type this schema does not know keeps base64 `value`). */
export interface Any {
  '@type': string;
  [field: string]: unknown;
}

/** google.protobuf.Struct: a JSON object. */
export type Struct = { [key: string]: JsonValue };

/** google.protobuf.Value: any JSON value. */
export type Value = JsonValue;

/** google.protobuf.Empty: `{}`. */
export type Empty = Record<string, never>;
