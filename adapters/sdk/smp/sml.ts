// sdk.md §3 "Dynamic discovery" steps 1–2 and §16.15: which SMP holds a participant's metadata. BDXL: the
// host name is base32(sha256(lowercase("<ICD>:<id>"))) without padding + `.iso6523-actorid-upis.` + the SML
// zone; its NAPTR record with service Meta:SMP gives the SMP base URL. A static locator serves development.
import { createHash } from 'node:crypto';
import { promises as dns } from 'node:dns';

/** Where the SMP for a participant is. Throws when discovery fails. */
export type SmpLocator = (participant: string) => Promise<string>;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
export function base32NoPad(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The BDXL host name of a participant in an SML zone. */
export function bdxlHostname(participant: string, zone: string): string {
  const hash = base32NoPad(createHash('sha256').update(participant.toLowerCase(), 'utf8').digest());
  return `${hash}.iso6523-actorid-upis.${zone.replace(/^\.+|\.+$/g, '')}`;
}

export interface NaptrRecord {
  flags: string;
  service: string;
  regexp: string;
  replacement: string;
  order: number;
  preference: number;
}

/** Apply a NAPTR regexp of the form `!^.*$!https://smp.example/!` (the only form BDXL uses). */
export function applyNaptrRegexp(regexp: string, input: string): string | undefined {
  if (regexp.length < 3) return undefined;
  const delim = regexp[0]!;
  const parts = regexp.slice(1).split(delim);
  if (parts.length < 2) return undefined;
  const [pattern, replacement] = parts as [string, string];
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return undefined;
  }
  return re.test(input) ? input.replace(re, replacement.replace(/\\(\d)/g, '$$$1')) : undefined;
}

export interface DnsLocatorOptions {
  zone: string;
  /** DNS resolution (default node:dns resolveNaptr); injectable for tests and custom resolvers. */
  resolveNaptr?: (host: string) => Promise<NaptrRecord[]>;
}

export function createDnsSmpLocator(opts: DnsLocatorOptions): SmpLocator {
  const resolve = opts.resolveNaptr ?? ((h: string) => dns.resolveNaptr(h));
  return async (participant) => {
    const host = bdxlHostname(participant, opts.zone);
    const records = (await resolve(host)).filter((r) => r.service.toLowerCase() === 'meta:smp' && r.flags.toUpperCase() === 'U').sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const r of records) {
      const url = applyNaptrRegexp(r.regexp, host);
      if (url !== undefined && /^https?:\/\//.test(url)) return url.replace(/\/+$/, '');
    }
    throw new Error('no Meta:SMP NAPTR record for the participant');
  };
}

/** One configured SMP for every participant (development, or a federation with a single SMP). */
export function createStaticSmpLocator(baseUrl: string): SmpLocator {
  const url = baseUrl.replace(/\/+$/, '');
  return async () => url;
}
