// The baseline every benchmark divides by (issue 5/7: a ratio against a rate measured in the same run):
// RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second on the calling thread, over a small buffer.
import { generateKeyPairSync, sign } from 'node:crypto';

export function rawSignRate(seconds: number): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('<SignedInfo>' + 'x'.repeat(200) + '</SignedInfo>');
  for (let i = 0; i < 20; i++) sign('sha256', data, privateKey); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 10; i++) sign('sha256', data, privateKey);
    n += 10;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}
