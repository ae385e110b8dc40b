// /etc/resolv.conf as the forwarder needs it: the nameservers (port 53), the search list (used only for
// search-domain stripping in dedicated mode, never appended to forwarded names) and `options timeout/attempts`.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export interface ResolvConf {
  readonly nameservers: readonly Upstream[];
  readonly search: readonly string[];
  /** `options timeout:n` (glibc default 5 s), per try. */
  readonly timeoutMs: number;
  /** `options attempts:n` (glibc default 2): rounds over every nameserver. */
  readonly attempts: number;
}

/** Parse resolv.conf text; unknown lines and bad nameserver addresses are skipped, as libc does. */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: Upstream[] = [];
  let search: string[] = [];
  let timeoutMs = 5000;
  let attempts = 2;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [keyword, ...args] = line.split(/\s+/);
    if (keyword === 'nameserver' && args[0]) {
      // a link-local address with a zone id (fe80::1%eth0) cannot be used from here: skipped
      if (!args[0].includes('%') && isIP(args[0])) nameservers.push({ host: args[0], port: 53 });
    } else if (keyword === 'search' || keyword === 'domain') {
      search = args.filter((domain) => domain !== '.');
    } else if (keyword === 'options') {
      for (const option of args) {
        const [name, value] = option.split(':');
        const number = Number(value);
        if (name === 'timeout' && Number.isInteger(number) && number > 0) timeoutMs = Math.min(number, 30) * 1000;
        if (name === 'attempts' && Number.isInteger(number) && number > 0) attempts = Math.min(number, 5);
      }
    }
  }
  return { nameservers, search, timeoutMs, attempts };
}

/** Read and parse a resolv.conf; a missing file reads as no nameservers (every forward then fails). */
export async function readResolvConf(path: string): Promise<ResolvConf> {
  try {
    return parseResolvConf(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return parseResolvConf('');
    throw error;
  }
}
