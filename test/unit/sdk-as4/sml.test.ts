// adapters/sdk/smp/sml.ts (sdk.md §3 steps 1–2, §16.15): the BDXL host name and the NAPTR answer → SMP URL.
import { createHash } from 'node:crypto';
import { applyNaptrRegexp, base32NoPad, bdxlHostname, createDnsSmpLocator, createStaticSmpLocator } from '../../../adapters/sdk/smp/index.js';

/** Reference base32 (RFC 4648 §6) computed bit by bit from a binary string, independent of the module's. */
function referenceBase32(bytes: Buffer): string {
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  const padded = bits.padEnd(Math.ceil(bits.length / 5) * 5, '0');
  return (padded.match(/.{5}/g) ?? []).map((g) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(g, 2)]).join('');
}

describe('SML / BDXL', () => {
  it('base32 without padding matches RFC 4648 test vectors', () => {
    const vectors: Array<[string, string]> = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [input, out] of vectors) expect(base32NoPad(Buffer.from(input))).toBe(out);
  });

  it('hashes the lower-cased participant id with SHA-256 into the zone', () => {
    const host = bdxlHostname('0203:Digg.SE', 'edelivery.tech.ec.europa.eu.');
    const expected = referenceBase32(createHash('sha256').update('0203:digg.se').digest());
    expect(host).toBe(`${expected}.iso6523-actorid-upis.edelivery.tech.ec.europa.eu`);
    expect(host).not.toContain('=');
    expect(expected).toHaveLength(52);
    expect(bdxlHostname('0203:digg.se', 'x.example')).toBe(bdxlHostname('0203:DIGG.se', 'x.example'));
  });

  it('applies the NAPTR regexp and picks the Meta:SMP U record with the lowest order', async () => {
    expect(applyNaptrRegexp('!^.*$!https://smp.example/!', 'abc.example')).toBe('https://smp.example/');
    expect(applyNaptrRegexp('!^(a.*)$!https://\\1/!', 'abc')).toBe('https://abc/');
    expect(applyNaptrRegexp('!^x$!y!', 'abc')).toBeUndefined();
    const seen: string[] = [];
    const locate = createDnsSmpLocator({
      zone: 'sml.example',
      resolveNaptr: async (h) => {
        seen.push(h);
        return [
          { flags: 'U', service: 'Meta:SMP', regexp: '!^.*$!https://second.example/!', replacement: '.', order: 20, preference: 10 },
          { flags: 'U', service: 'Meta:SMP', regexp: '!^.*$!https://first.example/!', replacement: '.', order: 10, preference: 10 },
          { flags: 'U', service: 'Meta:Other', regexp: '!^.*$!https://other.example/!', replacement: '.', order: 1, preference: 1 },
        ];
      },
    });
    expect(await locate('0203:digg.se')).toBe('https://first.example');
    expect(seen).toEqual([bdxlHostname('0203:digg.se', 'sml.example')]);
    await expect(createDnsSmpLocator({ zone: 'z', resolveNaptr: async () => [] })('0203:x')).rejects.toThrow(/NAPTR/);
    expect(await createStaticSmpLocator('https://smp.example/')('any')).toBe('https://smp.example');
  });
});
