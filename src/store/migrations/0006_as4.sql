-- AS4 duplicate elimination (../shared/specs/sdk.md §8 "Reliability"; docs/as4.md "Duplicate store in
-- PostgreSQL"): the receiving access point remembers every ebMS MessageId it delivered, per sending AP party,
-- so a retransmission after a restart or at another replica is answered with a receipt and not delivered twice.
-- Up Migration
CREATE TABLE sdk_as4_received (
  from_party  text        NOT NULL,
  message_id  text        NOT NULL,
  state       text        NOT NULL CHECK (state IN ('in-progress', 'delivered')),
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (from_party, message_id)
);
CREATE INDEX sdk_as4_received_claimed_at ON sdk_as4_received (claimed_at);

-- Down Migration
DROP TABLE sdk_as4_received;
