// Contract: our SignRequest and the simulator's SignResponse against the published DSS + DSS-extension
// schemas (../shared/reference/signing/validate/dss-ext-all.xsd, §13 item 2) and against our own subset in
// contracts/signing/dss-messages.xsd. libxml2-wasm resolves the reference schemas' remote schemaLocations
// from the local copies named in the reference catalog, so nothing is fetched.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { XmlBufferInputProvider, xmlRegisterInputProvider } from 'libxml2-wasm';
import { loadXsdValidator, type XsdValidatorHandle } from '../../../adapters/shared/xsd-validator.js';
import { createCentralSigningService } from '../../../adapters/signing/dss/index.js';
import type { SigningServiceSimulator } from '../../../adapters/signing/simulator/index.js';
import type { StartedSigning } from '../../../src/ports/signing.port.js';
import type { PersonalIdentityNumber } from '../../../src/domain/signing.js';
import { browserRoundTrip, devCentralSigningOptions, loadSigningKit, makePdf, referenceDir, rootDir, SAMPLE_XML, startDevSigningService, TEST_PNR, type SigningKit } from '../../fixtures/signing/kit.js';

const validateDir = path.join(referenceDir, 'validate');
const hasReference = existsSync(path.join(validateDir, 'dss-ext-all.xsd'));
if (!hasReference) console.warn(`SKIPPED reference XSD checks: ${validateDir} not found`);

let kit: SigningKit;
let sim: SigningServiceSimulator;
let ours: XsdValidatorHandle;
let reference: XsdValidatorHandle | null = null;
let signRequest: string;
let successResponse: string;
let cancelResponse: string;

/** Map the catalog's remote schema URLs to the local reference copies (read in place, never copied). */
function registerReferenceCatalog(): void {
  const catalog = readFileSync(path.join(validateDir, 'catalog.xml'), 'utf8');
  const files: Record<string, Uint8Array> = {};
  for (const m of catalog.matchAll(/<uri name="([^"]+)" uri="([^"]+)"\/>/g)) files[m[1]!] = readFileSync(path.resolve(validateDir, m[2]!));
  xmlRegisterInputProvider(new XmlBufferInputProvider(files));
}

async function signingRoundTrip(started: StartedSigning, query: string): Promise<string> {
  return Buffer.from((await browserRoundTrip(kit, started, query)).fields['EidSignResponse']!, 'base64').toString('utf8');
}

beforeAll(async () => {
  kit = await loadSigningKit();
  ours = loadXsdValidator(path.join(rootDir, 'contracts/signing/dss-messages.xsd'));
  if (hasReference) {
    registerReferenceCatalog();
    reference = loadXsdValidator(path.join(validateDir, 'dss-ext-all.xsd'));
  }
  sim = await startDevSigningService(kit);
  const service = createCentralSigningService(devCentralSigningOptions(kit, sim.url));
  const started = await service.start({
    personalIdentityNumber: TEST_PNR as PersonalIdentityNumber,
    documents: [
      { title: 'a.xml', format: 'xml', bytes: Buffer.from(SAMPLE_XML) },
      { title: 'b.pdf', format: 'pdf', bytes: await makePdf() },
      { title: 'c.txt', format: 'cms', bytes: Buffer.from('c') },
    ],
  });
  signRequest = Buffer.from(started.form.fields.EidSignRequest, 'base64').toString('utf8');
  successResponse = await signingRoundTrip(started, `signer=${TEST_PNR}`);
  const again = await service.start({ personalIdentityNumber: TEST_PNR as PersonalIdentityNumber, documents: [{ title: 'c.txt', format: 'cms', bytes: Buffer.from('c') }] });
  cancelResponse = await signingRoundTrip(again, 'scenario=user-cancel');
});

afterAll(async () => {
  ours?.dispose();
  reference?.dispose();
  await sim?.close();
});

describe('our own contract (contracts/signing/dss-messages.xsd)', () => {
  it('accepts our SignRequest and the simulator SignResponses (success and error)', () => {
    expect(ours.validate(signRequest)).toEqual({ valid: true });
    expect(ours.validate(successResponse)).toEqual({ valid: true });
    expect(ours.validate(cancelResponse)).toEqual({ valid: true });
  });

  it('rejects a SignRequest without SignService, with a short RequestID, or with MustShow=false', () => {
    const noService = signRequest.replace(/<csig:SignService[^>]*>[^<]*<\/csig:SignService>/, '');
    expect(ours.validate(noService).valid).toBe(false);
    expect(ours.validate(signRequest.replace(/RequestID="[0-9a-f]+"/, 'RequestID="short"')).valid).toBe(false);
    expect(ours.validate(signRequest.replace('MustShow="true"', 'MustShow="false"')).valid).toBe(false);
  });

  it('rejects a response whose signature is not the last child of OptionalOutputs', () => {
    const moved = successResponse.replace(/(<ds:Signature[\s\S]*<\/ds:Signature>)(<\/dss:OptionalOutputs>)/, '$2$1');
    expect(ours.validate(moved).valid).toBe(false);
  });
});

(hasReference ? describe : describe.skip)('published schemas (reference dss-ext-all.xsd)', () => {
  it('accepts the four reference example messages (setup check: the schemas really load)', () => {
    const names = ['signservice-SignRequest-xml-and-pdf-tasks.xml', 'signservice-SignRequest-bad-signature.xml', 'signservice-commons-SignResponse-success.xml', 'signservice-commons-SignResponse-bad-signature.xml'];
    for (const n of names) expect({ n, ...reference!.validate(readFileSync(path.join(referenceDir, 'examples', n), 'utf8')) }).toEqual({ n, valid: true });
  });

  it('accepts our SignRequest and the simulator SignResponses', () => {
    expect(reference!.validate(signRequest)).toEqual({ valid: true });
    expect(reference!.validate(successResponse)).toEqual({ valid: true });
    expect(reference!.validate(cancelResponse)).toEqual({ valid: true });
  });

  it('rejects our SignRequest once csig:SignService is removed', () => {
    const broken = signRequest.replace(/<csig:SignService[^>]*>[^<]*<\/csig:SignService>/, '');
    const r = reference!.validate(broken);
    expect(r.valid).toBe(false);
  });
});
