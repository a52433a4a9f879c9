// sdk.md §5, §9 and §16: `sandebud sdk validate <file>` — judge one SDK document with the same validation the
// message service uses and print exactly one JSON verdict on stdout.
//
// Accepted inputs (detected by the root element):
// * a bare payload (`messagePayload`): size, our XSD, the MessageConstraints port; no signature checks;
// * an XHE envelope: size, safe parse, signature, XHE XSD + R1–R14, encryption required, and — only when a
//   decryption key is given — the payload checks. The signature is verified with the certificate in KeyInfo
//   ONLY IF that certificate chains to a trust anchor given with --trust (there is no CertPub here), at the
//   time given with --at (default: now). Without --trust every signed envelope is REJECTED/SIG;
// * a Domibus WS-plugin submitRequest (the SDK reference examples): the base64 XHE inside is judged;
// * a receipt (`ApplicationResponse`): our receipt XSD + R1-APP…R9-APP.
// Look-ups of the running service (known function addresses, duplicates, references, malware) are skipped.
//
// Options: --trust <pem file> (repeatable), --at <ISO date-time>, --key <pem> --cert <pem> (our encryption
// key to look inside an encrypted payload). Exit code 0 = judged (ACCEPTED or REJECTED), 2 = unreadable
// input or usage error.
import fs from 'node:fs';
import { NS, SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import { NO_PATH, reason, verdictOf, type ReceiptReason } from '../../../src/domain/sdk/receipt.js';
import { descendantElements, findElements, localOf, stringValue } from '../xml/dom.js';
import { derToPem } from '../xhe/trust.js';
import type { DecryptionKey } from '../xhe/xml-enc.js';
import { safeParse, validatePayload, validateReceiptDocument } from './document.validators.js';
import { processInboundMessage } from './inbound.pipeline.js';
import { checkDeclaredSize, readWithLimit } from './size-guard.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface SdkValidateOptions {
  /** Trust anchors (PEM texts) for the KeyInfo signer certificate, in addition to --trust files. */
  trustAnchors?: string[];
  /** Validation time for certificate validity (overridden by --at). */
  validationTime?: Date;
  /** Decryption keys (in addition to --key/--cert). */
  decryptionKeys?: DecryptionKey[];
  contractsDir?: string;
}

const USAGE = 'usage: sandebud sdk validate <file> [--trust <ca.pem>]... [--at <ISO date-time>] [--key <enc.key> --cert <enc.crt>]';

interface ParsedArgs {
  file: string;
  trustFiles: string[];
  at?: Date;
  keyFile?: string;
  certFile?: string;
}

function parseArgs(argv: string[]): ParsedArgs | string {
  const args = [...argv];
  if (args[0] === 'sdk') args.shift();
  if (args[0] === 'validate') args.shift();
  const out: Partial<ParsedArgs> & { trustFiles: string[] } = { trustFiles: [] };
  while (args.length > 0) {
    const a = args.shift() as string;
    const value = (): string | undefined => args.shift();
    if (a === '--trust') {
      const v = value();
      if (v === undefined) return '--trust needs a file';
      out.trustFiles.push(v);
    } else if (a === '--at') {
      const v = value();
      const d = v === undefined ? undefined : new Date(v);
      if (d === undefined || Number.isNaN(d.getTime())) return '--at needs an ISO date-time';
      out.at = d;
    } else if (a === '--key') {
      const v = value();
      if (v === undefined) return '--key needs a file';
      out.keyFile = v;
    } else if (a === '--cert') {
      const v = value();
      if (v === undefined) return '--cert needs a file';
      out.certFile = v;
    } else if (a.startsWith('--')) {
      return `unknown option ${a}`;
    } else if (out.file === undefined) {
      out.file = a;
    } else {
      return 'exactly one file can be validated';
    }
  }
  if (out.file === undefined) return 'no file given';
  if ((out.keyFile === undefined) !== (out.certFile === undefined)) return '--key and --cert go together';
  return out as ParsedArgs;
}

function printVerdict(io: CliIo, reasons: ReceiptReason[]): number {
  const v = verdictOf(reasons);
  io.stdout(
    JSON.stringify(v.status === 'ACCEPTED' ? { status: 'ACCEPTED' } : { status: 'REJECTED', reasons: v.reasons.map((r) => ({ code: r.code, detail: r.detail, path: r.path, text: r.text })) }) + '\n',
  );
  return 0;
}

/** Local name of the root element, from the first 4 KiB of the file (prolog, comments and BOM skipped). */
function sniffRootName(file: string): string | undefined {
  const buf = Buffer.alloc(4096);
  let n = 0;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      n = fs.readSync(fd, buf, 0, buf.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const head = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '').replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, '');
  return /<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(head)?.[1];
}

/** The XHE carried base64-encoded in a Domibus submitRequest (`payload/value`), if `doc` is one. */
function embeddedXhe(root: Parameters<typeof descendantElements>[0]): Buffer | undefined {
  if (root.namespaceURI !== 'http://www.w3.org/2003/05/soap-envelope' || root.localName !== 'Envelope') return undefined;
  const values = descendantElements(root).filter(
    (v) => v.namespaceURI === null && localOf(v) === 'value' && v.parentNode !== null && (v.parentNode as { localName?: string }).localName === 'payload',
  );
  if (values.length !== 1) return undefined;
  return Buffer.from(stringValue(values[0]).replace(/\s+/g, ''), 'base64');
}

/**
 * CLI core of `sandebud sdk validate <file>`. `argv` are the arguments after `validate` (a leading
 * `sdk validate` is tolerated). Returns the process exit code.
 */
export async function sdkValidateCommand(argv: string[], io: CliIo, options: SdkValidateOptions = {}): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.stderr(`${args}\n${USAGE}\n`);
    return 2;
  }
  let anchors: string[];
  let keys: DecryptionKey[];
  try {
    anchors = [...(options.trustAnchors ?? []), ...args.trustFiles.map((f) => fs.readFileSync(f, 'utf8'))];
    keys = [...(options.decryptionKeys ?? [])];
    if (args.keyFile !== undefined && args.certFile !== undefined) keys.push({ privateKeyPem: fs.readFileSync(args.keyFile, 'utf8'), certificatePem: fs.readFileSync(args.certFile, 'utf8') });
  } catch {
    io.stderr('cannot read a --trust, --key or --cert file\n');
    return 2;
  }
  const now = args.at ?? options.validationTime ?? new Date();

  let stat: fs.Stats;
  try {
    stat = fs.statSync(args.file);
    if (!stat.isFile()) throw new Error('not a file');
  } catch {
    io.stderr(`cannot read ${args.file}\n`);
    return 2;
  }
  // Size first: the file size is the declared size (a bare payload has the payload limit, anything else the
  // envelope limit), and the read itself goes through the streaming guard, so an oversized file is refused
  // without ever being held in memory.
  const limit = sniffRootName(args.file) === 'messagePayload' ? SDK_LIMITS.maxInboundPayloadBytes : SDK_LIMITS.maxInboundEnvelopeBytes;
  const declared = checkDeclaredSize(stat.size, limit);
  if (declared !== null) return printVerdict(io, [declared]);
  let bytes: Buffer;
  try {
    const read = await readWithLimit(fs.createReadStream(args.file), limit);
    if (!read.ok) return printVerdict(io, [read.reason]);
    bytes = read.bytes;
  } catch {
    io.stderr(`cannot read ${args.file}\n`);
    return 2;
  }

  const parsed = safeParse(bytes);
  if (!parsed.ok) return printVerdict(io, [parsed.reason]);
  let root = parsed.parsed.doc.documentElement;
  if (root === null) return printVerdict(io, [reason('schema', NO_PATH, 'The document has no root element.')]);

  const inner = embeddedXhe(root);
  if (inner !== undefined) {
    io.stderr('note: judging the XHE carried in the submitRequest\n');
    bytes = inner;
    const again = safeParse(bytes);
    if (!again.ok) return printVerdict(io, [again.reason]);
    root = again.parsed.doc.documentElement;
    if (root === null) return printVerdict(io, [reason('schema', NO_PATH, 'The document has no root element.')]);
  }

  if (root.namespaceURI === NS.message && localOf(root) === 'messagePayload') {
    return printVerdict(io, validatePayload(bytes, { maxBytes: SDK_LIMITS.maxInboundPayloadBytes, ...(options.contractsDir ? { contractsDir: options.contractsDir } : {}) }).reasons);
  }
  if (root.namespaceURI === NS.app && localOf(root) === 'ApplicationResponse') {
    const p = safeParse(bytes);
    return printVerdict(io, p.ok ? validateReceiptDocument(bytes, p.parsed.doc, options.contractsDir) : [p.reason]);
  }
  if (root.namespaceURI === NS.xhe && localOf(root) === 'XHE') {
    // The only signer certificate available is the one in KeyInfo; it is trusted only via --trust anchors.
    const keyInfoCerts = findElements(root, NS.ds, 'Signature')
      .flatMap((s) => findElements(s, NS.ds, 'X509Certificate'))
      .filter((c) => (c.parentNode?.parentNode as { localName?: string } | null)?.localName === 'KeyInfo' && (c.parentNode?.parentNode?.parentNode as { localName?: string } | null)?.localName === 'Signature');
    const signer = keyInfoCerts.length === 1 ? derToPem(Buffer.from(stringValue(keyInfoCerts[0]).replace(/\s+/g, ''), 'base64')) : undefined;
    const signatures = findElements(root, NS.ds, 'Signature').filter((s) => s.parentNode === root);
    if (signer === undefined && signatures.length === 1) {
      const text = 'The signature carries no single certificate in KeyInfo; without CertPub the signer cannot be identified.';
      return printVerdict(io, [reason('signature', '/x:XHE/ds:Signature', text)]);
    }
    const result = await processInboundMessage(bytes, {
      certificates: { signingCertificates: async () => (signer === undefined ? [] : [{ pem: signer }]) },
      trust: { anchors, requireChain: true },
      now,
      ...(keys.length > 0 ? { decryptionKeys: keys } : {}),
      ...(options.contractsDir ? { contractsDir: options.contractsDir } : {}),
    });
    if (!result.payloadValidated && result.verdict.status === 'ACCEPTED') io.stderr('note: envelope and signature checked; the encrypted payload was not examined (no --key/--cert)\n');
    if (result.noReceiptReason !== undefined) io.stderr(`note: the service would send no receipt for this envelope (${result.noReceiptReason})\n`);
    return printVerdict(io, result.verdict.status === 'ACCEPTED' ? [] : result.verdict.reasons);
  }
  return printVerdict(io, [reason('schema', NO_PATH, 'The root element is not messagePayload, XHE or ApplicationResponse.')]);
}
