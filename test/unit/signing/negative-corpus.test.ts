// Negative corpus (../shared/specs/signing.md §10, §13 items 30–40; dependencies.md XML rule 10): each
// tampered file, named for its attack, must come out invalid or indeterminate with the expected reason —
// never valid. The genuine originals are checked first, so a failure below is the attack's doing.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateSignatures } from '../../../adapters/signing/validation/index.js';
import { buildNegativeCorpus, type CorpusEntry } from '../../fixtures/signing/negative-corpus.js';
import { loadSigningKit, type SigningKit } from '../../fixtures/signing/kit.js';

let kit: SigningKit;
let corpus: CorpusEntry[];

beforeAll(async () => {
  kit = await loadSigningKit();
  corpus = await buildNegativeCorpus(kit);
  // Keep the files for inspection with xmlsec1/pdfsig/openssl: $TMPDIR/sandebud-signing-corpus/<attack>.<ext>
  const dir = path.join(os.tmpdir(), 'sandebud-signing-corpus');
  await fs.mkdir(dir, { recursive: true });
  for (const e of corpus) {
    const ext = e.document.subarray(0, 5).toString('latin1') === '%PDF-' ? 'pdf' : e.document[0] === 0x30 ? 'p7s' : 'xml';
    await fs.writeFile(path.join(dir, `${e.name}.${ext}`), e.document);
  }
});

describe('negative corpus', () => {
  it('has at least ten distinct attacks', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(10);
    expect(new Set(corpus.map((e) => e.name)).size).toBe(corpus.length);
  });

  it('rejects every tampered file with the expected verdict and reason, never valid', async () => {
    const outcomes: Array<{ name: string; verdict: string; reason: string; signatures: string[] }> = [];
    for (const e of corpus) {
      const report = await validateSignatures({ document: e.document, ...(e.detachedContent ? { detachedContent: e.detachedContent } : {}) }, kit.validatorOptions());
      outcomes.push({ name: e.name, verdict: report.verdict, reason: report.reason, signatures: report.signatures.map((s) => `${s.status}/${s.reason}`) });
      expect(report.verdict).not.toBe('valid');
      for (const s of report.signatures) expect(s.status).not.toBe('valid');
    }
    // One table, so a regression shows every attack at once.
    expect(outcomes.map((o) => `${o.name}: ${o.verdict}/${o.reason}`)).toEqual(corpus.map((e) => `${e.name}: ${e.expect.status}/${e.expect.reason}`));
  });

  it('never reports forged content as signed after a wrapping attack', async () => {
    const e = corpus.find((c) => c.name === 'xml-signature-wrapping')!;
    const report = await validateSignatures({ document: e.document }, kit.validatorOptions());
    const sig = report.signatures[0]!;
    expect(sig.covers.wholeDocument).toBe(false);
    // The only covered part is the genuine, moved element — not the forged root.
    expect(sig.covers.parts).toEqual([{ type: 'xml-reference', uri: '#letter', element: 'Letter', whole: false }]);
  });

  it('names the processing instruction as the reason it refuses signed text with one', async () => {
    const e = corpus.find((c) => c.name === 'xml-processing-instruction')!;
    const report = await validateSignatures({ document: e.document }, kit.validatorOptions());
    expect(report.signatures[0]!.detail).toMatch(/processing instruction/);
  });

  it('reports the revocation it found for the revoked certificate', async () => {
    const e = corpus.find((c) => c.name === 'xml-revoked-certificate')!;
    const report = await validateSignatures({ document: e.document }, kit.validatorOptions());
    expect(report.signatures[0]!.revocation).toMatchObject({ status: 'revoked', source: 'CRL', reason: 'keyCompromise' });
  });
});
