// HBONE's face of @ambient-ts/addresses' CONNECT authority parser: the same forms and the same messages,
// thrown as `HboneError` `INVALID_AUTHORITY` (the server answers 400).
import { parseAuthority as parse, type Authority } from '@ambient-ts/addresses';
import { HboneError } from './errors.ts';

export type HboneAuthority = Authority;

/** `ip:port`, `[v6]:port` or `host:port`; throws `HboneError` `INVALID_AUTHORITY` with the reason. */
export function parseAuthority(text: string): HboneAuthority {
  try {
    return parse(text);
  } catch (error) {
    throw new HboneError('INVALID_AUTHORITY', (error as Error).message);
  }
}
