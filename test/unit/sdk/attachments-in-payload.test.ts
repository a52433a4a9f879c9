// src/domain/sdk/attachments-in-payload.ts: a large attachment is stored once, as a byte range of the payload
// (issue 7 memory). A received message arrives already in that form (the parser leaves the text where it is);
// withAttachmentTexts puts the texts back.
import { describe, expect, it } from '@jest/globals';
import { attachmentsInPayload, findInPayload, isTextRange, LARGE_CONTENT_CHARS, withAttachmentTexts } from '../../../src/domain/sdk/attachments-in-payload.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { peerMessage } from './sdk-test-kit.js';

const big = 'QUJD'.repeat(LARGE_CONTENT_CHARS / 4 + 10);
const small = 'c21hbGw=';

const original = peerMessage({ label: 'Bilagor', files: [{ fileName: 'stor.pdf', contentType: 'application/pdf', content: big }, { fileName: 'liten.txt', contentType: 'text/plain', content: small }], texts: ['Hej'] });

/** A fresh copy of the same message (the functions under test must not change their input). */
function message(): SdkMessage {
  return structuredClone(original);
}

/** A stand-in payload with both texts in it, as the real payload has them (between element tags). */
function payloadOf(...texts: string[]): Buffer {
  return Buffer.from(`<p>${texts.map((t) => `<content>${t}</content>`).join('')}</p>`, 'latin1');
}

describe('attachmentsInPayload', () => {
  it('keeps a large attachment found verbatim as its range and leaves a small one inline', () => {
    const payload = payloadOf(big, small);
    const stored = attachmentsInPayload(message(), payload);
    const [large, inline] = stored.documents[0]!.files;
    expect(large).toMatchObject({ content: '', contentInPayload: { offset: payload.indexOf(big), length: big.length } });
    expect(inline).toEqual({ fileName: 'liten.txt', contentType: 'text/plain', content: small });
    expect(withAttachmentTexts(stored, payload)).toEqual(message());
  });

  it('keeps a large attachment inline when the payload does not hold its exact text', () => {
    const payload = payloadOf(`B${big.slice(1)}`);
    expect(findInPayload(payload, big)).toBeUndefined();
    expect(attachmentsInPayload(message(), payload)).toEqual(message());
  });

  it('accepts an attachment that arrives as a range of text of this payload, and refuses any other range', () => {
    const payload = payloadOf(big);
    const ranged = (range: { offset: number; length: number }, content = ''): SdkMessage => {
      const m = message();
      m.documents[0]!.files = [{ fileName: 'stor.pdf', contentType: 'application/pdf', content, contentInPayload: range }];
      return m;
    };
    const good = { offset: payload.indexOf(big), length: big.length };
    expect(attachmentsInPayload(ranged(good), payload)).toEqual(ranged(good));
    expect(withAttachmentTexts(ranged(good), payload).documents[0]!.files[0]).toEqual({ fileName: 'stor.pdf', contentType: 'application/pdf', content: big });
    for (const bad of [{ offset: payload.length - 10, length: 11 }, { offset: -1, length: 5 }, { offset: 0.5, length: 5 }]) {
      expect(() => attachmentsInPayload(ranged(bad), payload)).toThrow(RangeError);
      expect(() => withAttachmentTexts(ranged(bad), payload)).toThrow(RangeError);
    }
    // A range must not come with a text of its own.
    expect(() => attachmentsInPayload(ranged(good, 'QUJD'), payload)).toThrow(RangeError);
  });

  it('isTextRange: printable ASCII, tab, LF and CR only', () => {
    const bytes = Buffer.from('AB\tC\r\nD\u0000E\u00e9', 'latin1');
    expect(isTextRange(bytes, { offset: 0, length: 7 })).toBe(true);
    expect(isTextRange(bytes, { offset: 0, length: 8 })).toBe(false);
    expect(isTextRange(bytes, { offset: 9, length: 1 })).toBe(false);
    expect(isTextRange(bytes, { offset: 0, length: 0 })).toBe(true);
  });
});
