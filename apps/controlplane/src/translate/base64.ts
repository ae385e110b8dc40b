// proto3 JSON carries `bytes` fields (the IP addresses) as base64.
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
