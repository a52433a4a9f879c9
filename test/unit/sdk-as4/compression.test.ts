// Issue 7 memory work (docs/sdk.md "Memory"): the AS4 payload is gzipped into one buffer and gunzipped into one
// buffer sized from the gzip trailer. The result must be exactly zlib's, whatever the trailer claims, and the
// decompression limit must hold.
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import { gzipInto } from '../../../adapters/sdk/as4/index.js';
import { gunzipBounded } from '../../../adapters/sdk/as4/as4.server.js';

const text = Buffer.from(Buffer.alloc(3_000_000).map((_b, i) => (i * 2654435761) >>> 24)).toString('base64');
const input = Buffer.from(text, 'latin1');

describe('gzipInto / gunzipBounded', () => {
  it('round-trip large and small inputs; a large result is a view of one allocation', async () => {
    const gz = await gzipInto(input, { strategy: constants.Z_HUFFMAN_ONLY });
    expect(gunzipSync(gz).equals(input)).toBe(true);
    expect(gz.buffer.byteLength).toBeLessThan(2 * gz.length);
    const out = await gunzipBounded(gz, input.length);
    expect(out.equals(input)).toBe(true);
    expect(out.buffer.byteLength).toBe(input.length);
    const small = await gzipInto(Buffer.from('<x/>'), { level: 6 });
    expect(gunzipSync(small).toString()).toBe('<x/>');
    expect(small.buffer.byteLength).toBeLessThan(1024 * 16);
  });

  it('gives zlib\'s output when the trailer lies about the size, or there are two members', async () => {
    const gz = gzipSync(input);
    const lying = Buffer.from(gz);
    lying.writeUInt32LE(100, lying.length - 4);
    // zlib checks ISIZE itself: a wrong one is an error, as it was with gunzip().
    await expect(gunzipBounded(lying, input.length)).rejects.toThrow();
    const twoMembers = Buffer.concat([gzipSync(input.subarray(0, 1000)), gzipSync(input.subarray(1000))]);
    expect((await gunzipBounded(twoMembers, input.length)).equals(input)).toBe(true);
  });

  it('refuses output beyond the limit', async () => {
    const gz = gzipSync(input);
    await expect(gunzipBounded(gz, input.length - 1)).rejects.toThrow('too large');
    const bomb = gzipSync(Buffer.alloc(5_000_000));
    const forged = Buffer.from(bomb);
    forged.writeUInt32LE(10, forged.length - 4);
    await expect(gunzipBounded(forged, 1_000_000)).rejects.toThrow();
  });
});
