// Print-and-post provider API: request and answer shapes (../shared/specs/digital-post.md §8.2; provider
// contracts are not public, so this is our provider port's wire format, which the simulator implements).
// POST {base}/print-jobs with `Idempotency-Key: <letterId>` → 202 {jobId, status} (200 for a repeat) or 422
// {reason}; GET {base}/print-jobs/{jobId} → {status, printedAt?, postedAt?}.
import { z } from 'zod';
import { AppError } from '../../src/domain/errors.js';
import type { LetterForPrint, PostalAddress, PrintConfirmation, PrintJobStatus } from '../../src/ports/digital-post.port.js';

export interface PrintJobRequestBody {
  letterId: string;
  billingUnit?: string;
  envelope: 'WINDOWED' | 'PLAIN';
  color: boolean;
  duplex: boolean;
  document: { contentType: 'application/pdf'; base64: string };
  address: Omit<PostalAddress, 'postalCode'> & { postalCode?: string };
}

/** `NNN NN` (one space), as Swedish addressing practice writes it. Input may omit the space. */
export function normalisePostalCode(code: string): string | undefined {
  const m = /^\s*([0-9]{3})\s?([0-9]{2})\s*$/.exec(code);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** Check the address we are about to send; the provider checks again (422). */
export function toPrintJobRequest(letter: LetterForPrint, address: PostalAddress): PrintJobRequestBody {
  const trimmed = (s: string | undefined) => (s === undefined ? undefined : s.trim() === '' ? undefined : s.trim());
  const name = trimmed(address.name);
  const street = trimmed(address.street);
  const town = trimmed(address.town);
  if (!name || !street || !town) throw new AppError('INVALID_POSTAL_ADDRESS', 'The postal address needs a name, a street and a town.', { status: 400 });
  // A foreign postal code is passed as given (some countries have none; the provider decides); a Swedish
  // one must be NNN NN.
  const abroad = trimmed(address.country) !== undefined && !/^(se|sverige|sweden)$/i.test(address.country!.trim());
  const postalCode = abroad ? trimmed(address.postalCode) : normalisePostalCode(address.postalCode);
  if (!abroad && !postalCode) throw new AppError('INVALID_POSTAL_ADDRESS', 'The postal code must be NNN NN.', { status: 400 });
  const careOf = trimmed(address.careOf);
  const apartment = trimmed(address.apartment);
  return {
    letterId: letter.letterId,
    ...(letter.billingUnit ? { billingUnit: letter.billingUnit } : {}),
    envelope: letter.envelope ?? 'PLAIN',
    color: letter.color ?? false,
    duplex: letter.duplex ?? true,
    document: { contentType: 'application/pdf', base64: letter.pdf.toString('base64') },
    address: {
      name,
      ...(careOf ? { careOf } : {}),
      street,
      ...(apartment ? { apartment } : {}),
      ...(postalCode ? { postalCode } : {}),
      town,
      ...(abroad ? { country: address.country!.trim() } : {}),
    },
  };
}

const submitAnswer = z.object({ jobId: z.string().min(1).max(100), letterId: z.string().optional(), status: z.literal('ACCEPTED') });
const rejection = z.object({ reason: z.string().min(1).max(60).regex(/^[A-Z_]+$/) });
const statusAnswer = z.object({
  jobId: z.string().min(1).max(100),
  status: z.enum(['ACCEPTED', 'PRINTED', 'POSTED']),
  printedAt: z.iso.datetime({ offset: true }).optional(),
  postedAt: z.iso.datetime({ offset: true }).optional(),
});

export function parseSubmitAnswer(body: unknown, letterId: string, duplicate: boolean): PrintConfirmation | undefined {
  const r = submitAnswer.safeParse(body);
  if (!r.success) return undefined;
  if (r.data.letterId !== undefined && r.data.letterId !== letterId) return undefined;
  return { letterId, jobId: r.data.jobId, status: 'ACCEPTED', duplicate };
}

/** The provider's machine-readable refusal reason, or undefined when the body is not one. */
export function parseRejection(body: unknown): string | undefined {
  const r = rejection.safeParse(body);
  return r.success ? r.data.reason : undefined;
}

export function parseStatusAnswer(body: unknown): PrintJobStatus | undefined {
  const r = statusAnswer.safeParse(body);
  if (!r.success) return undefined;
  return {
    jobId: r.data.jobId,
    status: r.data.status,
    ...(r.data.printedAt ? { printedAt: new Date(r.data.printedAt) } : {}),
    ...(r.data.postedAt ? { postedAt: new Date(r.data.postedAt) } : {}),
  };
}
