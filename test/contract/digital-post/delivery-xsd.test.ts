// Our outgoing digital-post XML against the PUBLIC Mina meddelanden schemas in ../shared/reference and against
// our own contracts/digital-post (../shared/specs/digital-post.md §5.2, §6.3, §11 #1, #19, #23).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { loadXsdValidator, type XsdValidatorHandle } from '../../../adapters/shared/xsd-validator.js';
import { signAndSeal, type SignedAndSealed } from '../../../adapters/digital-post/delivery/delivery.mapper.js';
import { buildIsReachableRequest } from '../../../adapters/digital-post/recipient/far.mapper.js';
import type { RecipientId } from '../../../src/domain/digital-post.js';
import { loadTestPki, referenceDir, testLetter, type TestPki } from '../../integration/digital-post-adapters/fixtures.js';

const ref = referenceDir();
const maybe = ref ? it : it.skip;
const OURS = path.resolve(process.cwd(), 'contracts/digital-post');

let pki: TestPki;
let out: SignedAndSealed;
let outOrg: SignedAndSealed;
const validators: XsdValidatorHandle[] = [];
const load = (p: string) => {
  const v = loadXsdValidator(p);
  validators.push(v);
  return v;
};
let ourAll: XsdValidatorHandle;
let ourStandalone: XsdValidatorHandle;

beforeAll(async () => {
  pki = await loadTestPki();
  const creds = { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') };
  out = await signAndSeal(testLetter('197010632391', { reference: 'Dnr 2026/42', correlationId: 'corr-1', sender: { organisationNumber: testLetter('x').sender.organisationNumber, name: 'Sändebuds kommun', attention: 'Socialtjänsten' } }), creds);
  outOrg = await signAndSeal(testLetter('162021003898', { body: { contentType: 'text/plain', content: Buffer.from('Hej!\nRad två.') }, attachments: [] }), creds);
  ourAll = load(path.join(OURS, 'digital-post.xsd'));
  ourStandalone = load(path.join(OURS, 'schema/message-v3.xsd'));
});
afterAll(() => validators.forEach((v) => v.dispose()));

describe('against the public schemas (validate/ in the reference folder)', () => {
  let pubAll: XsdValidatorHandle;
  let pubStandalone: XsdValidatorHandle;
  beforeAll(() => {
    if (!ref) return;
    pubAll = load(path.join(ref, 'validate/mm-all.xsd'));
    pubStandalone = load(path.join(ref, 'validate/mm-standalone-v3.xsd'));
  });

  maybe('our standalone SignedDelivery and SealedDelivery validate against mm-standalone-v3.xsd (§11 #19)', () => {
    for (const s of [out, outOrg]) {
      expect(pubStandalone.validate(s.signedDeliveryXml)).toEqual({ valid: true });
      expect(pubStandalone.validate(s.sealedDeliveryXml)).toEqual({ valid: true });
    }
  });

  maybe('our deliverSecure request validates against mm-all.xsd (§11 #19)', () => {
    expect(pubAll.validate(out.soapRequest)).toEqual({ valid: true });
    expect(pubAll.validate(outOrg.soapRequest)).toEqual({ valid: true });
  });

  maybe('our isReachable request validates against mm-all.xsd with 1,000 ids and a 16-prefixed sender (§11 #1)', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `1891010${String(i).padStart(5, '0')}` as RecipientId);
    expect(pubAll.validate(buildIsReachableRequest('162120000000', ids))).toEqual({ valid: true });
  });

  maybe('a 1,001st id or a 10-digit senderOrgNr would be schema-invalid (why the adapter refuses them)', () => {
    const ok = buildIsReachableRequest('162120000000', ['195303231855' as RecipientId]);
    const tooMany = ok.replace('<rcp3:recipientId>', `${'<rcp3:recipientId>195303231855</rcp3:recipientId>'.repeat(1000)}<rcp3:recipientId>`);
    expect(pubAll.validate(tooMany).valid).toBe(false);
    expect(pubAll.validate(ok.replace('162120000000', '2120000000')).valid).toBe(false);
  });
});

describe('against our own contracts/digital-post', () => {
  it('accepts our SignedDelivery, SealedDelivery, deliverSecure and isReachable', () => {
    expect(ourStandalone.validate(out.signedDeliveryXml)).toEqual({ valid: true });
    expect(ourStandalone.validate(out.sealedDeliveryXml)).toEqual({ valid: true });
    expect(ourAll.validate(out.soapRequest)).toEqual({ valid: true });
    expect(ourAll.validate(buildIsReachableRequest('162120000000', ['195303231855' as RecipientId, '162021003898' as RecipientId]))).toEqual({ valid: true });
  });

  it('refuses SHA-1 in a signature (our xmldsig subset is the algorithm allow-list)', () => {
    expect(ourStandalone.validate(out.signedDeliveryXml.replace('http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1')).valid).toBe(false);
  });

  maybe('accepts every national-shaped reference message it covers, and refuses the isRegisteredResponse', () => {
    const ex = path.join(ref!, 'examples');
    for (const f of ['sandebud-isReachable-request.xml', 'sandebud-deliverSecure-request-signed.xml', 'sundsvall-deliverSecureResponse-kivra.xml', 'sundsvall-deliverSecureResponse-organisation.xml', 'sundsvall-isReachableResponse-kivra.xml', 'sundsvall-isReachableResponse-organisation-templated.xml']) {
      expect([f, ourAll.validate(fs.readFileSync(path.join(ex, f)))]).toEqual([f, { valid: true }]);
    }
    for (const f of ['sandebud-SignedDelivery-standalone-signed.xml', 'sandebud-SealedDelivery-standalone-signed.xml']) {
      expect([f, ourStandalone.validate(fs.readFileSync(path.join(ex, f)))]).toEqual([f, { valid: true }]);
    }
    expect(ourAll.validate(fs.readFileSync(path.join(ex, 'sundsvall-isRegisteredResponse.xml'))).valid).toBe(false);
  });

  maybe('contains no byte-identical copy of a reference file', () => {
    const md5 = (f: string) => createHash('md5').update(fs.readFileSync(f)).digest('hex');
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const theirs = new Set(walk(ref!).map(md5));
    for (const f of walk(OURS)) expect([f, theirs.has(md5(f))]).toEqual([f, false]);
  });
});

describe('independent verification with xmlsec1 (§11 #23)', () => {
  let xmlsec: boolean;
  beforeAll(() => {
    try {
      execFileSync('xmlsec1', ['--version'], { stdio: 'pipe' });
      xmlsec = true;
    } catch {
      console.warn('xmlsec1 is not installed: skipping the independent signature check.');
      xmlsec = false;
    }
  });

  it('verifies the extracted SignedDelivery and the re-rooted SealedDelivery with our dev CA as trust anchor', () => {
    if (!xmlsec) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandebud-xmlsec-'));
    try {
      const signedFile = path.join(dir, 'signed.xml');
      const sealedFile = path.join(dir, 'sealed.xml');
      fs.writeFileSync(signedFile, out.signedDeliveryXml);
      fs.writeFileSync(sealedFile, out.sealedDeliveryXml);
      const args = (root: string, file: string) => [
        '--verify', '--enabled-reference-uris', 'empty',
        '--trusted-pem', path.join(pki.files.dir, 'root-ca.crt'), '--untrusted-pem', path.join(pki.files.dir, 'org-ca.crt'),
        '--node-xpath', `/*[local-name()='${root}']/*[local-name()='Signature']`, file,
      ];
      const run = (root: string, file: string) => execFileSync('xmlsec1', args(root, file), { stdio: 'pipe' }).toString() + '';
      expect(() => run('SignedDelivery', signedFile)).not.toThrow();
      expect(() => run('SealedDelivery', sealedFile)).not.toThrow();
      // And a tampered copy fails.
      fs.writeFileSync(signedFile, out.signedDeliveryXml.replace('197010632391', '195303231855'));
      expect(() => run('SignedDelivery', signedFile)).toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
