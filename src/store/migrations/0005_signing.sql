-- Signing and validation (issue 8; ../shared/specs/signing.md §2 flow, §5.3 "consume once", §9.3 report, §13
-- item 43 evidence). A signing request also has a `deliveries` row (kind 'signing'): the foundation's
-- Idempotency-Key handling, coarse status history (RECEIVED → DELIVERED when signed, FAILED, CANCELLED when
-- expired) and `receipts` (the exact SignResponse bytes) live there. Documents and personnummer live only in
-- these tables, never in logs or the audit trail.

-- Up Migration

CREATE TABLE signing_requests (
  id                 uuid PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
  owner              text NOT NULL,                 -- principalId() of the case system or person who asked
  status             text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SIGNED', 'FAILED', 'EXPIRED')),
  signer_pnr         text NOT NULL,                 -- the named signer (personnummer); never logged
  sign_message       text NOT NULL,                 -- document description shown to the signer
  case_reference     text,
  content_type       text NOT NULL,
  format             text NOT NULL CHECK (format IN ('xml', 'pdf', 'cms')),
  document           bytea NOT NULL,                -- the document exactly as received
  document_sha256    text NOT NULL,
  sign_token         text NOT NULL,                 -- capability in the sign URL (compared in constant time)
  expires_at         timestamptz NOT NULL,
  error_code         text,                          -- SIGNING_* code when FAILED
  error_message      text,
  signed_document    bytea,                         -- signed document (xml, pdf) or detached CAdES .p7s (cms)
  signed_detached    boolean,
  signer_info        jsonb,                         -- names, LoA, IdP and authentication instant from the response
  report             jsonb,                         -- our validation of the assembled result (§5.3 step 13)
  validation_id      uuid,                          -- the evidence row of that validation
  signed_at          timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signing_requests_owner ON signing_requests (owner, created_at);

-- One row per SignRequest sent to the signing service (each visit of the sign URL while PENDING). The row is
-- consumed exactly once by the UPDATE … WHERE consumed_at IS NULL of the response endpoint (§13 item 14).
CREATE TABLE signing_attempts (
  dss_request_id     text PRIMARY KEY,              -- the DSS RequestID (= RelayState), 48 hex characters
  request_id         uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
  pending            jsonb NOT NULL,                -- PendingSignRequest: what complete() needs (§6)
  created_at         timestamptz NOT NULL DEFAULT now(),
  consumed_at        timestamptz,
  outcome            text                           -- SIGNED or the error code of this attempt
);
CREATE INDEX signing_attempts_request ON signing_attempts (request_id);

-- Every validation, kept as evidence for the archive (§9, §13 item 43): the report, the SHA-256 of the document
-- (and of detached content), the validator version and policy and the time. The document itself is not kept.
CREATE TABLE signature_validations (
  id                       uuid PRIMARY KEY,
  owner                    text NOT NULL,
  source                   text NOT NULL CHECK (source IN ('api', 'signing')),
  signing_request_id       uuid REFERENCES signing_requests (id) ON DELETE SET NULL,
  document_sha256          text NOT NULL,
  detached_content_sha256  text,
  document_format          text NOT NULL,
  verdict                  text NOT NULL CHECK (verdict IN ('valid', 'invalid', 'indeterminate')),
  reason                   text NOT NULL,
  validator_version        text NOT NULL,
  policy                   text NOT NULL,
  validated_at             timestamptz NOT NULL,
  report                   jsonb NOT NULL,
  sealed_evidence          bytea,                   -- the XAdES-sealed evidence export, made once on first request
  created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signature_validations_owner ON signature_validations (owner, created_at);
CREATE INDEX signature_validations_document ON signature_validations (document_sha256);

ALTER TABLE signing_requests ADD CONSTRAINT signing_requests_validation FOREIGN KEY (validation_id) REFERENCES signature_validations (id) ON DELETE SET NULL;

-- Down Migration
ALTER TABLE signing_requests DROP CONSTRAINT signing_requests_validation;
DROP TABLE signature_validations;
DROP TABLE signing_attempts;
DROP TABLE signing_requests;
