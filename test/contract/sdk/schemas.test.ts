// contracts/sdk: our own XSDs (style.md "contracts first"). They are not copies of the reference files,
// they judge a corpus of valid and broken documents exactly as the published schemas do, and everything we
// send (payload, XHE, receipt, receipt XHE) validates against both. Our signed + encrypted XHE is also
// verified and decrypted by an independent implementation (xmlsec1, §16.10) when it is installed.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ParseOption, XmlDocument, XsdValidator, XmlLibError } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { buildReceiptEnvelope } from '../../../adapters/sdk/receipt/receipt.envelope.js';
import { buildReceiptXml } from '../../../adapters/sdk/receipt/receipt.mapper.js';
import { DEFAULT_CONTRACTS_DIR, sanitizeSchemaMessage, validateWithSchema, type SdkSchema } from '../../../adapters/sdk/validation/xsd.validator.js';
import { buildMessagePayload } from '../../../adapters/sdk/xhe/message.mapper.js';
import { sealMessage } from '../../../adapters/sdk/xhe/seal.js';
import { FUNCTION_ADDRESS_ROOT } from '../../../src/domain/sdk/constants.js';
import type { MessageId } from '../../../src/domain/sdk/identifiers.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { embeddedXheOf, fixture, loadPki, OURS, PEER1, REFERENCE, referenceAvailable, skipNotice, type Pki } from '../../unit/sdk/sdk-test-kit.js';

const describeRef = referenceAvailable ? describe : describe.skip;
if (!referenceAvailable) skipNotice('schema equivalence tests against the reference XSDs (test/contract/sdk/schemas.test.ts)');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
const md5 = (f: string): string => createHash('md5').update(fs.readFileSync(f)).digest('hex');

// Reference validators (tests only). The receipt set imports its siblings under other names, so it is
// validated from a temporary folder where the files carry the names the imports expect (sdk.md §9 quirk).
let referenceValidators: Record<SdkSchema, XsdValidator> | undefined;
function reference(): Record<SdkSchema, XsdValidator> {
  if (referenceValidators) return referenceValidators;
  xmlRegisterFsInputProviders();
  const load = (file: string): XsdValidator => {
    const d = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file });
    try {
      return XsdValidator.fromDoc(d);
    } finally {
      d.dispose();
    }
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sandebud-receipt-xsd-'));
  for (const f of fs.readdirSync(path.join(REFERENCE, 'receipt-1.0/xsd'))) {
    const target = f === 'Response-2.1.xsd' ? f : f.replace(/^Response-2\.1_/, 'DIGG UBL-ApplicationResponse-2.1_');
    fs.copyFileSync(path.join(REFERENCE, 'receipt-1.0/xsd', f), path.join(tmp, target));
  }
  referenceValidators = {
    message: load(path.join(REFERENCE, 'message-v3.1/xsd/infrastructure_messaging_MessageWithAttachments_3.0.xsd')),
    xhe: load(path.join(REFERENCE, 'xhe-1.0/xsd/XHE-1.0.xsd')),
    receipt: load(path.join(tmp, 'Response-2.1.xsd')),
  };
  return referenceValidators;
}

function referenceValid(schema: SdkSchema, xml: Buffer | string): boolean {
  const doc = XmlDocument.fromBuffer(Buffer.from(xml), { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_HUGE });
  try {
    reference()[schema].validate(doc);
    return true;
  } catch (e: unknown) {
    if (e instanceof XmlLibError) return false;
    throw e;
  } finally {
    doc.dispose();
  }
}

const ours = (schema: SdkSchema, xml: Buffer | string): boolean => validateWithSchema(schema, Buffer.from(xml)).length === 0;

describeRef('our contracts are our own', () => {
  it('no file under contracts/sdk is a byte copy of a reference file', () => {
    const referenceHashes = new Set(filesUnder(REFERENCE).map(md5));
    const copies = filesUnder(DEFAULT_CONTRACTS_DIR).filter((f) => referenceHashes.has(md5(f)));
    expect(copies).toEqual([]);
  });
});

describeRef('our XSDs judge like the published ones', () => {
  const payload = fixture('payloads/accepted.xml').toString('utf8');
  const msgCases: [string, string][] = [
    ['valid fixture', payload],
    ['reference example', fs.existsSync(REFERENCE) ? fs.readFileSync(path.join(REFERENCE, 'message-v3.1/example/messageWithAttachments3.xml'), 'utf8') : payload],
    ['sender before recipient', fixture('payloads/sv-structure.xml').toString('utf8')],
    ['confidentiality not a boolean', payload.replace('<tns:confidentiality>true', '<tns:confidentiality>ja')],
    ['creationDateTime not a dateTime', payload.replace('2026-11-20T10:00:00.000Z', '20 nov 2026')],
    ['organisation label of 257 characters', payload.replace('<tns:label>Region Dev</tns:label>', `<tns:label>${'x'.repeat(257)}</tns:label>`)],
    ['subject label of 300 characters (a rule, not a schema matter)', payload.replace('Kallelse till samverkansmöte', 'x'.repeat(300))],
    ['unknown element in the message namespace', payload.replace('<tns:index>1</tns:index>', '<tns:index>1</tns:index><tns:colour>red</tns:colour>')],
    ['foreign element in an extension slot', payload.replace('</tns:documents>', '<f:x xmlns:f="urn:foreign">1</f:x></tns:documents>')],
    ['foreign element inside an II (no slot there)', payload.replace('<tns:extension>RD 2026/0042</tns:extension>', '<tns:extension>RD 2026/0042</tns:extension><f:x xmlns:f="urn:foreign">1</f:x>')],
    ['ContentText before ContentFiles', payload.replace(/(<tns:ContentFiles>[\s\S]*<\/tns:ContentFiles>)\s*(<tns:ContentText>[\s\S]*<\/tns:ContentText>)/, '$2$1')],
    ['no documents', payload.replace(/<tns:documents>[\s\S]*<\/tns:documents>/, '')],
    ['missing recipient attention', payload.replace(/(<tns:recipient>[\s\S]*?)<tns:attention>[\s\S]*?<\/tns:attention>/, '$1')],
    ['missing sender attention (optional in the XSD)', payload.replace(/(<tns:sender>[\s\S]*?)<tns:attention>[\s\S]*?<\/tns:attention>/, '$1')],
    ['wrong root', payload.replace(/tns:messagePayload/g, 'tns:message2')],
  ];
  it.each(msgCases)('message: %s', (_name, xml) => {
    expect(ours('message', xml)).toBe(referenceValid('message', xml));
  });

  it('message: the corpus contains both outcomes', () => {
    const outcomes = new Set(msgCases.map(([, x]) => ours('message', x)));
    expect(outcomes).toEqual(new Set([true, false]));
  });

  const xhe = (): string => embeddedXheOf(fs.readFileSync(path.join(REFERENCE, 'message-v3.1/example/as4_xhe_encrypted.xml'))).toString('utf8');
  const xheCases: [string, (x: string) => string][] = [
    ['reference XHE', (x) => x],
    ['no XHEVersionID', (x) => x.replace('<XHEVersionID>1.0</XHEVersionID>', '')],
    ['indicator not a boolean', (x) => x.replace('<InstanceEncryptionIndicator>true', '<InstanceEncryptionIndicator>maybe')],
    ['CreationDateTime not a dateTime', (x) => x.replace(/<CreationDateTime>[^<]*/, '<CreationDateTime>yesterday')],
    ['ProfileID (allowed by XSD, forbidden by R1)', (x) => x.replace('</CustomizationID>', '</CustomizationID><ProfileID>p</ProfileID>')],
    ['no ToParty', (x) => x.replace(/<ns3:ToParty>[\s\S]*?<\/ns3:ToParty>/, '')],
    ['unknown attribute on ID', (x) => x.replace('<ID schemeID="iso6523-actorid-upis">0203:testb', '<ID schemeID="iso6523-actorid-upis" colour="red">0203:testb')],
    ['scheme attributes of the CCTS identifier', (x) => x.replace('<ID schemeID="iso6523-actorid-upis">0203:testb', '<ID schemeID="iso6523-actorid-upis" schemeAgencyID="x" schemeVersionID="1">0203:testb')],
    ['element out of order in the header', (x) => x.replace(/(<ns3:FromParty>[\s\S]*?<\/ns3:FromParty>)(<ns3:ToParty>[\s\S]*?<\/ns3:ToParty>)/, '$2$1')],
    ['signature without SignatureValue', (x) => x.replace(/<dsig:SignatureValue>[^<]*<\/dsig:SignatureValue>/, '')],
  ];
  it.each(xheCases)('XHE: %s', (_name, mutate) => {
    const x = mutate(xhe());
    expect(ours('xhe', x)).toBe(referenceValid('xhe', x));
  });

  const receipt = (): string => fs.readFileSync(path.join(REFERENCE, 'receipt-1.0/example/Kvittens_RE-SCHFel.xml'), 'utf8');
  const receiptCases: [string, (x: string) => string][] = [
    ['reference receipt', (x) => x],
    ['IssueTime not a time', (x) => x.replace('12:00:00Z', 'noon')],
    ['Note (not in the reduced schema)', (x) => x.replace('</cbc:ID>', '</cbc:ID><cbc:Note>n</cbc:Note>')],
    ['schemeName on EndpointID', (x) => x.replace('<cbc:EndpointID schemeID', '<cbc:EndpointID schemeName="x" schemeID')],
    ['LineResponse without Response', (x) => x.replace(/<cac:Response>\s*<cbc:ResponseCode>BV[\s\S]*?<\/cac:Response>/, '')],
    ['Status without StatusReason', (x) => x.replace(/<cbc:StatusReason>[^<]*<\/cbc:StatusReason>/, '')],
  ];
  it.each(receiptCases)('receipt: %s', (_name, mutate) => {
    const x = mutate(receipt());
    expect(ours('receipt', x)).toBe(referenceValid('receipt', x));
  });
});

describeRef('what we send validates against the published schemas too', () => {
  let k: Pki;
  beforeAll(async () => {
    k = await loadPki();
  });
  const msg = (): SdkMessage => {
    const id = '6e1f4f3a-1c1b-4b1d-9f0e-1a2b3c4d5e6f' as MessageId;
    return {
      creationDateTime: new Date().toISOString(),
      messageId: id,
      conversationId: id,
      label: 'Kontrakt',
      confidentiality: false,
      generatingSystem: { root: 'urn:example', extension: 'Sändebud' },
      recipient: { id: PEER1.participant, label: 'Region Dev', attention: { persons: [{ label: 'Handläggare' }], references: [{ referenceId: { root: 'dnr', extension: '2026/1' } }], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: 'sdk:inkorg:0203:region.dev.example' }, label: 'Inkorg' } } },
      sender: { id: OURS.participant, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: 'sdk:utkorg:0203:sandebud.dev.example' } } } },
      documents: [{ documentId: 'd', documentName: 'Brev', index: '1', files: [{ fileName: 'a.pdf', contentType: 'application/pdf', content: 'JVBERi0xLjQ=' }], texts: ['Text'] }],
    };
  };

  it('the payload we build', () => {
    const xml = buildMessagePayload(msg());
    expect(referenceValid('message', xml)).toBe(true);
    expect(ours('message', xml)).toBe(true);
  });

  it('the sealed XHE we build', async () => {
    const sealed = await sealMessage({ message: msg(), recipientEncryptionCertificatePem: k.cert('peer1-enc'), signingKey: k.key('org-sign') });
    expect(referenceValid('xhe', sealed.envelope)).toBe(true);
    expect(ours('xhe', sealed.envelope)).toBe(true);
  });

  it('the receipt and the receipt XHE we build', () => {
    const xml = buildReceiptXml({ receiptId: 'r', issuedAt: new Date(), issuer: OURS.participant, receiver: PEER1.participant, documentReference: msg().messageId, verdict: { status: 'REJECTED', reasons: [{ code: 'SIG', detail: 'security', path: 'NA', text: 'x' }] } });
    expect(referenceValid('receipt', xml)).toBe(true);
    const env = buildReceiptEnvelope({ issuer: OURS.participant, receiver: PEER1.participant, acknowledgedXheId: msg().messageId, verdict: { status: 'ACCEPTED' }, signingKey: k.key('org-sign') });
    expect(referenceValid('xhe', env.envelope)).toBe(true);
  });
});

describe('schema messages in receipts never carry document values', () => {
  it('drops quoted values but keeps element and type names', () => {
    const m = sanitizeSchemaMessage("Element '{urn:riv:infrastructure:messaging:MessageWithAttachments:3}label': [facet 'maxLength'] The value 'Anna Andersson 19640101-1234' has a length of 300; this exceeds the allowed maximum length of '256'.\n");
    expect(m).toBe("Element 'tns:label': [facet 'maxLength'] The value '…' has a length of 300; this exceeds the allowed maximum length of '…'.");
  });
});

const xmlsec = spawnSync('xmlsec1', ['--version'], { encoding: 'utf8' });
const describeXmlsec = xmlsec.status === 0 ? describe : describe.skip;
if (xmlsec.status !== 0) console.warn('SKIPPED: independent XML-DSig/XML-Enc check — xmlsec1 is not installed');

describeXmlsec('an independent implementation (xmlsec1) accepts what we seal (§16.10)', () => {
  it('verifies our signature with the signer certificate and decrypts our payload with the recipient key', async () => {
    const k = await loadPki();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandebud-xmlsec-'));
    try {
      const id = 'aa1f4f3a-1c1b-4b1d-9f0e-1a2b3c4d5e6f' as MessageId;
      const message: SdkMessage = {
        creationDateTime: new Date().toISOString(), messageId: id, conversationId: id, label: 'xmlsec', confidentiality: false,
        recipient: { id: PEER1.participant, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: 'sdk:inkorg:0203:region.dev.example' } } } },
        sender: { id: OURS.participant, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: 'sdk:utkorg:0203:sandebud.dev.example' } } } },
        documents: [{ documentId: 'd', files: [], texts: ['Oberoende kontroll'] }],
      };
      const sealed = await sealMessage({ message, recipientEncryptionCertificatePem: k.cert('peer1-enc'), signingKey: k.key('org-sign') });
      const env = path.join(dir, 'xhe.xml');
      fs.writeFileSync(env, sealed.envelope);
      const signerLeaf = path.join(dir, 'signer.pem');
      fs.writeFileSync(signerLeaf, (k.cert('org-sign').split('-----END CERTIFICATE-----')[0] ?? '') + '-----END CERTIFICATE-----\n');
      const verify = spawnSync('xmlsec1', ['--verify', '--pubkey-cert-pem', signerLeaf, '--id-attr:Id', 'EncryptedData', env], { encoding: 'utf8' });
      expect(verify.status).toBe(0);
      const decrypted = execFileSync('xmlsec1', ['--decrypt', '--privkey-pem', `${k.pki.key('peer1-enc')},${k.pki.cert('peer1-enc')}`, '--trusted-pem', k.pki.caBundleFile, env], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(decrypted).toContain('<tns:characterSequence>Oberoende kontroll</tns:characterSequence>');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
