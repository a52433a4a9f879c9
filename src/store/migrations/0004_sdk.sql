-- SDK message service (issue 6; ../shared/specs/sdk.md §5, §9, §10, §13, §16.22): outbound and inbound SDK
-- messages with their MT–MK status history, every envelope our access point delivered to us (exact bytes),
-- and the receipts we sent. Outbound messages also have a `deliveries` row (kind 'sdk-message'): the
-- foundation's idempotency, coarse delivery status and `receipts` table (the receipts we received) are used there.
-- Message content (payload, label, attachments) lives only in these tables, never in logs or the audit trail.

-- Up Migration

-- Every envelope the access point handed to us, stored before we answer the AP (the "taken over" point of the
-- AccessPoint port), then judged by a queue job. Kept as evidence: the exact received bytes and the receipt we sent.
CREATE TABLE sdk_inbound_envelopes (
  id                            uuid PRIMARY KEY,
  -- AS4 MessageId: an envelope the AP re-delivers (same transport id) is stored once.
  transport_message_id          text NOT NULL UNIQUE,
  envelope                      bytea NOT NULL,             -- exactly as received; the signature is verified on these bytes
  routing                       jsonb NOT NULL,             -- originalSender, finalRecipient, documentId, processId, xheId
  received_at                   timestamptz NOT NULL,
  state                         text NOT NULL DEFAULT 'received' CHECK (state IN (
                                  'received',               -- stored, not judged yet
                                  'judged',                 -- verdict and receipt stored; receipt not yet handed to the AP
                                  'receipt-submitted',      -- our receipt was handed to the AP
                                  'receipt-acknowledged',   -- the AP reported the transport receipt for our receipt
                                  'receipt-failed',         -- our receipt could not be delivered
                                  'no-receipt',             -- sdk.md §5 "No receipt is sent": incident, nothing answered
                                  'receipt-applied',        -- an inbound receipt, applied to our outbound message
                                  'receipt-ignored',        -- an inbound receipt for no (or an already final) outbound message
                                  'receipt-refused')),      -- an inbound receipt that failed verification (logged, never answered)
  kind                          text CHECK (kind IN ('message', 'receipt')),
  xhe_id                        text,                       -- XHE Header/ID as judged
  sender                        text,                       -- XHE FromParty as judged
  verdict                       jsonb,                      -- {status, reasons[]} for messages; {problems[]} for refused receipts
  no_receipt_reason             text,
  receipt_envelope              bytea,                      -- the signed receipt we send, exactly as signed
  receipt_xhe_id                text UNIQUE,
  receipt_routing               jsonb,
  receipt_transport_message_id  text,
  processed_at                  timestamptz
);
CREATE INDEX sdk_inbound_envelopes_xhe ON sdk_inbound_envelopes (xhe_id);

CREATE TABLE sdk_messages (
  -- The MT–MK resource id (`data.id`): equal to message_id, except when that id is already taken by another row
  -- (a message our organisation sent to itself: the inbound copy gets its own id).
  id                    uuid PRIMARY KEY,
  direction             text NOT NULL CHECK (direction IN ('out', 'in')),
  delivery_id           uuid UNIQUE REFERENCES deliveries (id) ON DELETE CASCADE,  -- outbound only
  inbound_envelope_id   uuid REFERENCES sdk_inbound_envelopes (id),                -- inbound only
  message_id            uuid NOT NULL,
  conversation_id       uuid NOT NULL,
  ref_to_message_id     uuid,
  sender                text NOT NULL,              -- participant id (senderID)
  recipient             text NOT NULL,              -- participant id (recipientID)
  sender_address        text,                       -- sender function address (optional inbound, sdk.md §14.6)
  recipient_address     text NOT NULL,              -- recipient function address (= XHE HandlingServiceID)
  -- Our side of the message: the sender address when outbound, the recipient address when inbound. Grants on
  -- this address decide who may see the message.
  own_address           text NOT NULL,
  confidentiality       boolean NOT NULL,
  creation_date_time    text NOT NULL,              -- lexical, as carried in the message
  creation_time         timestamptz NOT NULL,       -- the same instant, for the creationDateTime filters
  status                text NOT NULL,              -- MT–MK status (src/domain/sdk/status.ts)
  message               jsonb NOT NULL,             -- the message (src/domain/sdk/message.ts SdkMessage); {} once deleted
  payload               bytea,                      -- serialized messagePayload XML (outbound: as encrypted; inbound: as decrypted)
  envelope              bytea,                      -- the exact signed XHE we handed to the AP (outbound)
  routing               jsonb,                      -- AS4 routing of that envelope (outbound)
  transport_message_id  text,                       -- the AP's transport id (outbound)
  stored_at             timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  deleted_at            timestamptz                 -- DELETE by a client: hidden, content cleared, row kept for duplicate checks
);
-- sdk.md §16.22: a second delivery of the same messageId from the same sender never creates a second inbox item.
CREATE UNIQUE INDEX sdk_messages_inbound_once ON sdk_messages (lower(sender), message_id) WHERE direction = 'in';
-- One outbound message per messageId (a client-chosen messageId cannot be reused).
CREATE UNIQUE INDEX sdk_messages_outbound_once ON sdk_messages (message_id) WHERE direction = 'out';
CREATE INDEX sdk_messages_own ON sdk_messages (own_address, creation_time DESC) WHERE deleted_at IS NULL;
CREATE INDEX sdk_messages_status ON sdk_messages (direction, status);

-- The message's `events` (sdk.md §10): every status transition with its time, and the detail lines (receipt
-- LineResponses, transport errors) recorded with them. Listed newest first.
CREATE TABLE sdk_message_events (
  id              bigserial PRIMARY KEY,
  sdk_message_id  uuid NOT NULL REFERENCES sdk_messages (id) ON DELETE CASCADE,
  status_change   boolean NOT NULL,               -- true: a transition (type_code = the new status)
  type_code       text NOT NULL,                  -- status, or a receipt line code (SV | BV | SIG), or TRANSPORT
  title           text NOT NULL,
  detail          text,
  location        text,                           -- the problem's `in`: an XPath (receipt LineID) or a field
  at              timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sdk_message_events_message ON sdk_message_events (sdk_message_id, id);

-- Down Migration
DROP TABLE sdk_message_events;
DROP TABLE sdk_messages;
DROP TABLE sdk_inbound_envelopes;
