// AUTH_TOKEN: a file path whose content is re-read on every request (projected tokens rotate), or, when no
// such file exists, the literal token. A missing default file means "no auth header", as in ztunnel.
import { existsSync, readFileSync } from 'node:fs';

export function tokenSource(value: string): () => string | undefined {
  return () => {
    if (existsSync(value)) return readFileSync(value, 'utf8').trim() || undefined;
    return value.startsWith('./') || value.startsWith('/') ? undefined : value;
  };
}
