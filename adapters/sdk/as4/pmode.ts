// sdk.md §8 (P-mode parameters) and §14.16 (AS4 constants are configuration): loads our P-mode from
// contracts/sdk/as4/pmode.yaml, validates it, and answers the questions the sender and receiver ask of it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DIGEST_METHODS, DSIG, SIGNATURE_METHODS } from './as4.constants.js';

export const DEFAULT_PMODE_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../contracts/sdk/as4/pmode.yaml');

const uri = z.string().min(1);

export const pmodeSchema = z.object({
  id: z.string().min(1),
  transportProfile: z.string().min(1),
  mep: uri,
  binding: uri,
  roles: z.object({ initiator: uri, responder: uri }),
  partyIdType: z.string().min(1),
  mpc: uri,
  service: z.object({ value: z.string().min(1), type: z.string().min(1) }),
  legs: z.array(z.object({ name: z.string().min(1), action: z.string().min(1) })).min(1),
  properties: z.object({ type: z.string().min(1), required: z.array(z.string().min(1)) }),
  payload: z.object({ cid: z.string().min(1), mimeType: z.string().min(1), compress: z.boolean() }),
  security: z.object({
    signatureMethod: z.string().refine((s) => s in SIGNATURE_METHODS && !SIGNATURE_METHODS[s]!.ecdsa, 'only RSA signature methods can be used for signing'),
    digestMethod: z.string().refine((s) => s in DIGEST_METHODS, 'digest method not allowed'),
    canonicalization: z.literal(DSIG.excC14n),
    timestampTtlSeconds: z.number().int().positive(),
    clockSkewSeconds: z.number().int().nonnegative(),
    encryptAttachments: z.literal(false),
  }),
  reliability: z.object({
    replyPattern: z.literal('response'),
    nonRepudiation: z.boolean(),
    duplicateDetection: z.boolean(),
    retry: z.object({
      attempts: z.number().int().min(1),
      initialDelaySeconds: z.number().nonnegative(),
      factor: z.number().min(1),
      maxDelaySeconds: z.number().nonnegative(),
    }),
  }),
  errorHandling: z.object({ errorAsResponse: z.literal(true) }),
});

export type As4Pmode = z.infer<typeof pmodeSchema>;

/** Read and validate a P-mode file; every error names the offending path. */
export function loadPmode(file: string = DEFAULT_PMODE_FILE): As4Pmode {
  const parsed = pmodeSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid AS4 P-mode ${file}: ${issues}`);
  }
  return parsed.data;
}

let cached: As4Pmode | undefined;
/** The project P-mode (contracts/sdk/as4/pmode.yaml), read once. */
export function defaultPmode(): As4Pmode {
  cached ??= loadPmode();
  return cached;
}

/** The leg whose action is `action`, if the P-mode has one. */
export function legForAction(pmode: As4Pmode, action: string): As4Pmode['legs'][number] | undefined {
  return pmode.legs.find((l) => l.action === action);
}

/** The AS4 Action of an SDK document id (sdk.md §2: `<doc scheme>::<doc id>`). */
export function actionForDocument(documentId: string, scheme = 'busdox-docid-qns'): string {
  return `${scheme}::${documentId}`;
}

/** The document id of an AS4 Action, or undefined when the action does not carry the scheme prefix. */
export function documentForAction(action: string, scheme = 'busdox-docid-qns'): string | undefined {
  const prefix = `${scheme}::`;
  return action.startsWith(prefix) ? action.slice(prefix.length) : undefined;
}
