// `sandebud signature validate` core: ../shared/specs/signing.md §9.3 (the report the CLI must always print:
// status, reason, signer, signedAt, chain per signature) and §13 item 45 (offline: nothing is fetched).
import { promises as fs } from 'node:fs';
import { validateSignatures } from './index.js';

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

export interface SignatureValidateOptions {
  /** Trust anchors used when no --trust is given (e.g. the configured CA bundle). */
  defaultTrustFiles: string[];
  /** CRL files always loaded (e.g. the configured CRLs); --crl adds more. */
  defaultCrlFiles?: string[];
}

/** Exit codes: the verdict, or a usage/input problem (sysexits). */
export const EXIT = { valid: 0, invalid: 1, indeterminate: 2, usage: 64, noInput: 66 } as const;

const USAGE = `usage: sandebud signature validate <file> [--trust <ca.pem>]... [--crl <crl.pem>]... [--content <detached-content-file>] [--no-revocation]
  Validates every signature in <file> (XML/XAdES, PDF/PAdES, CMS/CAdES) offline and prints one JSON report.
  --trust          trusted CA certificates (PEM); adds to the configured trust anchors (TRUST_CA_FILE)
  --crl            CRL (PEM or DER) for revocation checks; adds to the configured CRLs
  --content        the signed content of a detached signature (.p7s, detached XMLDSig)
  --no-revocation  report revocation as unknown instead of TRY_LATER when no CRL is available
  Exit status: 0 valid, 1 invalid, 2 indeterminate, 64 usage error, 66 unreadable input.
`;

interface ParsedArgs {
  file: string;
  trust: string[];
  crls: string[];
  content?: string;
  revocation: 'require' | 'if-available';
}

function parseArgs(argv: readonly string[]): ParsedArgs | { help: true } | { error: string } {
  let args = [...argv];
  // Accept the full command line as well as what follows `signature validate`.
  if (args[0] === 'signature') args = args.slice(1);
  if (args[0] === 'validate') args = args.slice(1);
  const out: Omit<ParsedArgs, 'file'> & { file?: string } = { trust: [], crls: [], revocation: 'require' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | null => {
      const eq = a.indexOf('=');
      if (eq !== -1) return a.slice(eq + 1);
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) return null;
      i++;
      return v;
    };
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name === '--help' || name === '-h') return { help: true };
    if (name === '--trust' || name === '--crl' || name === '--content') {
      const v = value();
      if (v === null) return { error: `${name} needs a file` };
      if (name === '--trust') out.trust.push(v);
      else if (name === '--crl') out.crls.push(v);
      else if (out.content !== undefined) return { error: '--content may be given once' };
      else out.content = v;
    } else if (name === '--no-revocation') {
      out.revocation = 'if-available';
    } else if (a.startsWith('-')) {
      return { error: `unknown option ${a}` };
    } else if (out.file === undefined) {
      out.file = a;
    } else {
      return { error: 'only one file can be validated at a time' };
    }
  }
  if (out.file === undefined) return { error: 'no file given' };
  return { ...out, file: out.file };
}

/** Run `signature validate`; prints one JSON report on stdout and returns the exit code. */
export async function signatureValidateCommand(argv: string[], io: CliIo, opts: SignatureValidateOptions): Promise<number> {
  const parsed = parseArgs(argv);
  if ('help' in parsed) {
    io.stdout.write(USAGE);
    return 0;
  }
  if ('error' in parsed) {
    io.stderr.write(`sandebud signature validate: ${parsed.error}\n${USAGE}`);
    return EXIT.usage;
  }
  const trustFiles = parsed.trust.length > 0 ? parsed.trust : opts.defaultTrustFiles;
  const crlFiles = [...(opts.defaultCrlFiles ?? []), ...parsed.crls];
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await fs.readFile(file);
    } catch (e) {
      throw new InputError(`cannot read ${what} ${file}: ${e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'error'}`);
    }
  };
  try {
    const document = await read(parsed.file, 'file');
    const detachedContent = parsed.content !== undefined ? await read(parsed.content, 'content file') : undefined;
    const trustAnchors = await Promise.all(trustFiles.map((f) => read(f, 'trust file')));
    const crls = await Promise.all(crlFiles.map((f) => read(f, 'CRL file')));
    let report;
    try {
      report = await validateSignatures({ document, ...(detachedContent ? { detachedContent } : {}) }, { trustAnchors, crls, revocation: parsed.revocation });
    } catch (e) {
      throw new InputError(`trust anchors or CRLs could not be read (${e instanceof Error ? e.message.slice(0, 80) : 'error'})`);
    }
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT[report.verdict];
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr.write(`sandebud signature validate: ${e.message}\n`);
      return EXIT.noInput;
    }
    throw e;
  }
}

class InputError extends Error {}
