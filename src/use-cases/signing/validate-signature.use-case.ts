// Validating signed documents and keeping the evidence (issue 8 "Validation"; ../shared/specs/signing.md §9
// validation and report, §13 item 43 "validation on receipt stores … the report"): every validation is stored
// with the SHA-256 of what was validated, the validator version, the policy and the time.
import { createHash } from 'node:crypto';
import { validationError } from '../../domain/errors.js';
import type { SignatureValidator } from '../../ports/signing.port.js';
import type { SigningStore, ValidationRecord } from '../../ports/signing-store.port.js';
import { parseValidationRequest } from './signing-input.js';

export interface ValidateDeps {
  store: SigningStore;
  validator: SignatureValidator;
  clock?: () => Date;
}

/** POST /v1/signing/validations: validate, keep the evidence, return it. Bad input stores nothing. */
export async function validateDocument(deps: ValidateDeps, owner: string, body: unknown): Promise<ValidationRecord> {
  const parsed = parseValidationRequest(body);
  if (!parsed.ok) throw validationError(parsed.errors);
  const { document, detachedContent } = parsed.value;
  const report = await deps.validator.validate({ document, ...(detachedContent ? { detachedContent } : {}), ...(deps.clock ? { at: deps.clock() } : {}) });
  return deps.store.insertValidation({
    owner, source: 'api', report,
    ...(detachedContent ? { detachedContentSha256: createHash('sha256').update(detachedContent).digest('hex') } : {}),
  });
}
