// sdk.md §5 row 4, §11, §16.23 and dependencies.md XML rules 2–3: size limits applied before buffering and
// the safe parser (DTDs, encodings, depth) in front of every SDK document.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { checkDeclaredSize, createSizeLimitStream, readWithLimit, SizeLimitExceededError } from '../../../adapters/sdk/validation/size-guard.js';
import { validatePayload } from '../../../adapters/sdk/validation/document.validators.js';
import { assertNoDtd, decodeUtf8Xml, maxElementDepth, parseUntrustedXml, stripBom, UnsafeXmlError } from '../../../adapters/sdk/xml/safe-xml.js';
import { SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import { fixture } from './sdk-test-kit.js';

const MB32 = 32 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** A 32 MB message produced lazily, 64 KiB at a time, counting how much the consumer pulled. */
function lazyMessage(totalBytes: number): { stream: Readable; pulled: () => number } {
  const head = fixture('payloads/accepted.xml').toString('utf8').split('<tns:content>')[0] + '<tns:content>';
  let produced = 0;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (produced >= totalBytes) {
        this.push(null);
        return;
      }
      const chunk = produced === 0 ? Buffer.from(head) : Buffer.alloc(Math.min(CHUNK, totalBytes - produced), 0x41);
      produced += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, pulled: () => produced };
}

describe('size limits before buffering (§11: 30 MiB inbound, 30 000 000 bytes outbound)', () => {
  it('checkDeclaredSize refuses a declared 32 MB body with BV/too-long before reading it', () => {
    expect(checkDeclaredSize(MB32, SDK_LIMITS.maxInboundPayloadBytes)).toMatchObject({ code: 'BV', detail: 'too-long', path: 'NA' });
    expect(checkDeclaredSize(String(MB32), SDK_LIMITS.maxInboundPayloadBytes)).toMatchObject({ detail: 'too-long' });
    expect(checkDeclaredSize(SDK_LIMITS.maxInboundPayloadBytes, SDK_LIMITS.maxInboundPayloadBytes)).toBeNull();
    expect(checkDeclaredSize(undefined, 10)).toBeNull();
    expect(checkDeclaredSize('abc', 10)).toBeNull();
  });

  it('readWithLimit refuses a 32 MB message with BV/too-long after reading at most limit + one chunk', async () => {
    const { stream, pulled } = lazyMessage(MB32);
    const r = await readWithLimit(stream, SDK_LIMITS.maxInboundPayloadBytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatchObject({ code: 'BV', detail: 'too-long' });
    expect(r.bytesRead).toBeGreaterThan(SDK_LIMITS.maxInboundPayloadBytes);
    expect(r.bytesRead).toBeLessThanOrEqual(SDK_LIMITS.maxInboundPayloadBytes + CHUNK);
    // the source was destroyed: the rest of the 32 MB was never produced
    expect(pulled()).toBeLessThan(MB32);
    expect(stream.destroyed).toBe(true);
  });

  it('the size-limit transform fails a piped 32 MB body without passing the excess on', async () => {
    const { stream } = lazyMessage(MB32);
    let received = 0;
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        received += chunk.length;
        cb();
      },
    });
    const guard = createSizeLimitStream(SDK_LIMITS.maxInboundPayloadBytes);
    await expect(pipeline(stream, guard, sink)).rejects.toBeInstanceOf(SizeLimitExceededError);
    expect(received).toBeLessThanOrEqual(SDK_LIMITS.maxInboundPayloadBytes);
    expect(guard.bytesSeen).toBeLessThanOrEqual(SDK_LIMITS.maxInboundPayloadBytes + CHUNK);
  });

  it('a message under the limit is read completely', async () => {
    const r = await readWithLimit(Readable.from([Buffer.from('<a/>')]), 10);
    expect(r).toEqual({ ok: true, bytes: Buffer.from('<a/>') });
  });

  it('validatePayload refuses a buffer above the limit as BV/too-long without parsing it', () => {
    const r = validatePayload(Buffer.alloc(101, 0x20), { maxBytes: 100 });
    expect(r.reasons).toEqual([expect.objectContaining({ code: 'BV', detail: 'too-long' })]);
  });
});

describe('safe parsing before any parser (§16.23, XML rules 2–3)', () => {
  it('rejects a DOCTYPE and an internal entity before parsing', () => {
    expect(() => assertNoDtd('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toThrow(UnsafeXmlError);
    expect(() => parseUntrustedXml(fixture('payloads/doctype-entity.xml'))).toThrow(expect.objectContaining({ kind: 'doctype' }));
  });

  it('the payload validator answers a DOCTYPE with SV/structure and marks it not well-formed (no receipt)', () => {
    const r = validatePayload(fixture('payloads/doctype-entity.xml'));
    expect(r.wellFormed).toBe(false);
    expect(r.reasons).toEqual([expect.objectContaining({ code: 'SV', detail: 'structure', path: 'NA' })]);
  });

  it('strips a UTF-8 BOM and accepts only UTF-8', () => {
    expect(stripBom(Buffer.from([0xef, 0xbb, 0xbf, 0x3c]))).toEqual(Buffer.from('<'));
    expect(() => decodeUtf8Xml(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a/>'))).toThrow(expect.objectContaining({ kind: 'encoding' }));
    expect(() => decodeUtf8Xml(Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]))).toThrow(expect.objectContaining({ kind: 'encoding' }));
    expect(() => decodeUtf8Xml(Buffer.from([0xff, 0xfe, 0x3c, 0x00]))).toThrow(expect.objectContaining({ kind: 'encoding' }));
  });

  it('limits nesting depth, ignoring markup inside comments, CDATA and attribute values', () => {
    expect(maxElementDepth('<a><b x="<c>"><!-- <d><e> --><![CDATA[<f><g>]]><h/></b></a>')).toBe(3);
    const deep = '<a>'.repeat(150) + '</a>'.repeat(150);
    expect(() => parseUntrustedXml(Buffer.from(deep))).toThrow(expect.objectContaining({ kind: 'depth' }));
  });

  it('refuses documents that are not well-formed', () => {
    expect(() => parseUntrustedXml(fixture('payloads/not-well-formed.xml'))).toThrow(expect.objectContaining({ kind: 'not-well-formed' }));
    expect(() => parseUntrustedXml(Buffer.from('   '))).toThrow(expect.objectContaining({ kind: 'empty' }));
    expect(() => parseUntrustedXml(Buffer.from('<a><b></a>'))).toThrow(UnsafeXmlError);
  });
});
