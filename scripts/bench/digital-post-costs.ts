// Where one letter's CPU goes (companion of bench:digital-post; docs/performance.md). Each step a letter
// needs is timed on this thread and printed in milliseconds and in RSA-2048 signatures (the baseline measured in
// the same run). From them follows an upper bound for bench:digital-post's ratio that ignores the database, the
// queue, HTTP and TLS altogether: cores × 1000 / (our steps + the operator's steps) / raw signing rate.
//
//   npm run bench:digital-post-costs -- [--n 2000] [--sign-seconds 2]
//
// The last line is one JSON object.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPrivateKey, sign as rsaSign } from 'node:crypto';
import { DOMImplementation, XMLSerializer } from '@xmldom/xmldom';
import { rawSignRate } from './baseline.js';
import { ensureDevPki } from '../dev-pki.js';
import { ROOT } from '../../src/main.js';
import type { LetterForDelivery } from '../../src/ports/digital-post.port.js';
import type { OrganisationNumber, RecipientId } from '../../src/domain/digital-post.js';
import { prepareDelivery } from '../../adapters/digital-post/delivery/delivery.mapper.js';
import { contractValidator } from '../../adapters/digital-post/simulator/sim-support.js';
import { parseSoapMessage } from '../../adapters/shared/soap.js';
import { childElements, parseXmlSafely, requiredChild } from '../../adapters/shared/xml-safe-parse.js';
import { verifyEnvelopedDocument } from '../../adapters/shared/xml-dsig.js';
import { createTrustStore } from '../../adapters/shared/x509-trust.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '2000' }, 'sign-seconds': { type: 'string', default: '2' } }, strict: true });
const n = Math.max(100, Number(values.n) || 2000);
const log = (s: string): void => { process.stderr.write(`${s}\n`); };
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
const NS_SERVICE_V3 = 'http://minameddelanden.gov.se/schema/Service/v3';
const NS_MESSAGE_V3 = 'http://minameddelanden.gov.se/schema/Message/v3';

/** Mean CPU ms per call of `f` over n calls (after a warm-up). */
async function cost(f: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 50; i++) await f(i);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await f(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
}

async function main(): Promise<void> {
  const raw = rawSignRate(Number(values['sign-seconds']) || 2);
  // Every step, the baseline included, is measured in CPU time of this thread, so a busy machine changes
  // the milliseconds but not the ratios.
  const baselineKey = createPrivateKey(readFileSync(path.join(ROOT, 'certs-dev', 'org-sign.key'), 'utf8'));
  const baselineData = Buffer.from('<SignedInfo>' + 'x'.repeat(200) + '</SignedInfo>');
  const signMs = await cost(() => rsaSign('sha256', baselineData, baselineKey));
  const cpuRaw = 1000 / signMs;
  const pki = await ensureDevPki(path.join(ROOT, 'certs-dev'));
  const read = (f: string) => readFileSync(f, 'utf8');
  const sender = { keyPem: read(pki.key('org-sign')), certPem: read(pki.cert('org-sign')) };
  const sealer = { keyPem: read(pki.key('org-seal')), certPem: read(pki.cert('org-seal')) };
  const keys = new Map([[sender.keyPem, createPrivateKey(sender.keyPem)], [sealer.keyPem, createPrivateKey(sealer.keyPem)]]);
  const signHere = async (keyPem: string, data: string | Buffer) => rsaSign('sha256', Buffer.from(data), keys.get(keyPem)!);
  const letter = (i: number): LetterForDelivery => ({
    deliveryId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, sender: { organisationNumber: '2120000000' as OrganisationNumber, name: 'Sändebuds kommun' },
    recipient: '195303231855' as RecipientId, subject: 'Information från kommunen', supportInfo: { text: 'Ring kommunens kontaktcenter', phoneNumber: '060-19 10 00' },
    body: { contentType: 'text/plain', content: Buffer.from('Hej!\nDetta är ett testbrev från prestandamätningen.') }, attachments: [], receivedAt: new Date(), language: 'sv',
  });

  // Ours: build the SignedDelivery and the SealedDelivery, digest, both RSA signatures (on this thread here).
  const prepareMs = await cost((i) => prepareDelivery(letter(i), { sender, sealer, signer: signHere }));
  const request = (await prepareDelivery(letter(1), { sender, sealer, signer: signHere })).soapRequest;

  // The operator's side, as the mailbox simulator does it: schema, SOAP parse, the seal on the re-rooted
  // SealedDelivery, the sender signature on the SignedDelivery it covered.
  const validator = contractValidator();
  const trust = createTrustStore(read(pki.caBundleFile));
  const xsdMs = await cost(() => validator.validate(request));
  const soapMs = await cost(() => parseSoapMessage(request, { maxBytes: 3_000_000 }));
  const msg = parseSoapMessage(request, { maxBytes: 3_000_000 });
  if (msg.kind !== 'body') throw new Error('expected a SOAP body');
  const inner = requiredChild(msg.payload, NS_SERVICE_V3, 'deliverSecure');
  const reRoot = () => {
    const doc = new DOMImplementation().createDocument(NS_MESSAGE_V3, 'SealedDelivery', null);
    for (const c of childElements(inner)) doc.documentElement!.appendChild(doc.importNode(c, true));
    return new XMLSerializer().serializeToString(doc);
  };
  const sealedXml = reRoot();
  const reRootMs = await cost(reRoot);
  const sealVerifyMs = await cost(() => verifyEnvelopedDocument(sealedXml, { trust }));
  const sealed = verifyEnvelopedDocument(sealedXml, { trust });
  const signedXml = new XMLSerializer().serializeToString(requiredChild(parseXmlSafely(sealed.signedContent).documentElement!, NS_MESSAGE_V3, 'SignedDelivery'));
  const signedVerifyMs = await cost(() => verifyEnvelopedDocument(signedXml, { trust }));

  const oursMs = prepareMs;
  const operatorMs = xsdMs + soapMs + reRootMs + sealVerifyMs + signedVerifyMs;
  const cores = availableParallelism();
  const ceilingLettersPerS = (cores * 1000) / (oursMs + operatorMs);
  const report = {
    n, cores, raw_sign_per_s: round(raw, 1), raw_sign_per_cpu_s: round(cpuRaw, 1), sign_ms: round(signMs),
    ours: { prepare_ms: round(prepareMs), prepare_signatures: round(prepareMs / signMs, 2), prepare_without_rsa_ms: round(prepareMs - 2 * signMs) },
    operator: {
      xsd_ms: round(xsdMs), soap_parse_ms: round(soapMs), re_root_ms: round(reRootMs), verify_seal_ms: round(sealVerifyMs), verify_signed_ms: round(signedVerifyMs),
      total_ms: round(operatorMs), total_signatures: round(operatorMs / signMs, 2),
    },
    request_bytes: request.length,
    // Upper bound: every core busy with nothing but these steps; no database, queue, HTTP or TLS.
    ceiling_letters_per_s: round(ceilingLettersPerS, 1),
    ceiling_ratio: round(ceilingLettersPerS / cpuRaw),
  };
  log(`raw signing rate: ${report.raw_sign_per_s}/s wall clock, ${report.raw_sign_per_cpu_s}/s of CPU (${report.sign_ms} ms CPU per RSA-2048 signature)`);
  log(`ours per letter:  ${report.ours.prepare_ms} ms = ${report.ours.prepare_signatures} signatures (two of them RSA; ${report.ours.prepare_without_rsa_ms} ms building and digesting)`);
  log(`operator per letter: ${report.operator.total_ms} ms = ${report.operator.total_signatures} signatures (XSD ${report.operator.xsd_ms}, SOAP parse ${report.operator.soap_parse_ms}, re-root ${report.operator.re_root_ms}, verify seal ${report.operator.verify_seal_ms}, verify signature ${report.operator.verify_signed_ms})`);
  log(`ceiling on ${cores} cores without database, queue, HTTP or TLS: ${report.ceiling_letters_per_s} letters/s → ratio ≤ ${report.ceiling_ratio}`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:digital-post-costs failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
