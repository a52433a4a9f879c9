-- Digital post (issue 5; digital-post.md §6, §8): the letter content kept until it is delivered or printed,
-- the prepared (signed and sealed) request resent unchanged on every retry, and mass-mailing batches.
-- Personal data (recipient id, content, postal address) lives only here, never in logs or the audit trail.

-- Up Migration
CREATE TABLE letter_batches (
  id              uuid PRIMARY KEY,
  owner           text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  size            integer NOT NULL,
  -- One copy of the shared content for every letter of the batch.
  body_type       text NOT NULL,
  body            bytea NOT NULL,
  attachments     jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner, idempotency_key)
);

CREATE TABLE letters (
  id               uuid PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
  batch_id         uuid REFERENCES letter_batches (id) ON DELETE CASCADE,
  batch_index      integer,
  recipient        text NOT NULL,              -- 12 digits (personnummer/samordningsnummer) or 16 + organisation number
  sender_org       text NOT NULL,              -- 10 digits, from configuration
  sender_name      text NOT NULL,
  subject          text NOT NULL,
  body_type        text NOT NULL,              -- text/plain | text/html | application/pdf
  body             bytea,                      -- NULL for batch letters: the content is on letter_batches
  attachments      jsonb NOT NULL DEFAULT '[]'::jsonb,   -- [{filename, contentType, content (base64)}]
  support_info     jsonb NOT NULL,
  language         text NOT NULL DEFAULT 'svSE',
  reference        text,
  postal_address   jsonb,
  paper_allowed    boolean NOT NULL DEFAULT true,
  operator_id      text,
  operator_name    text,
  service_address  text,
  prepared_request bytea,                      -- signed + sealed deliverSecure request, resent unchanged
  request_sha256   text,
  received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX letters_batch ON letters (batch_id, batch_index) WHERE batch_id IS NOT NULL;

-- Down Migration
DROP TABLE letters;
DROP TABLE letter_batches;
