-- Foundation tables (issue 3 §3): deliveries with their status history, receipts, the transactional outbox
-- and the audit trail. PostgreSQL is the truth; the queue only carries outbox ids.

-- Up Migration
CREATE TABLE deliveries (
  id              uuid PRIMARY KEY,
  kind            text NOT NULL,              -- letter | sdk-message | signing | ping
  status          text NOT NULL,              -- see src/domain/delivery-status.ts
  channel         text,                       -- digital | paper | sdk
  reason          text,                       -- closed reason code when diverted or failed
  owner           text NOT NULL,              -- principalId() of the creator
  idempotency_key text,
  request_hash    text,
  correlation_id  text,
  data            jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One delivery per client and Idempotency-Key (style.md convention 7).
CREATE UNIQUE INDEX deliveries_idempotency ON deliveries (owner, kind, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX deliveries_status ON deliveries (kind, status);

CREATE TABLE delivery_events (
  id           bigserial PRIMARY KEY,
  delivery_id  uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  status       text NOT NULL,
  reason       text,
  details      jsonb NOT NULL DEFAULT '{}'::jsonb,
  at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, id);

CREATE TABLE receipts (
  id           bigserial PRIMARY KEY,
  delivery_id  uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  kind         text NOT NULL,                 -- operator-receipt | print-confirmation | sdk-receipt | ...
  external_id  text,
  data         jsonb NOT NULL DEFAULT '{}'::jsonb,
  raw          bytea,                         -- exact bytes received, kept as evidence
  received_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (delivery_id, kind, external_id)
);

CREATE TABLE outbox (
  id             bigserial PRIMARY KEY,
  kind           text NOT NULL,               -- handler name, e.g. letter.send
  ref_id         uuid NOT NULL,               -- the delivery (or other row) the job acts on
  status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
  attempts       integer NOT NULL DEFAULT 0,
  last_error     text,
  correlation_id text,
  locked_until   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  done_at        timestamptz
);
CREATE INDEX outbox_open ON outbox (updated_at) WHERE status IN ('pending', 'running');

CREATE TABLE audit_events (
  id             bigserial PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT clock_timestamp(),
  type           text NOT NULL,
  actor          text NOT NULL,
  subject        text,
  outcome        text NOT NULL CHECK (outcome IN ('success', 'failure')),
  details        jsonb NOT NULL DEFAULT '{}'::jsonb,
  correlation_id text
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_subject ON audit_events (subject);

-- Down Migration
DROP TABLE audit_events;
DROP TABLE outbox;
DROP TABLE receipts;
DROP TABLE delivery_events;
DROP TABLE deliveries;
