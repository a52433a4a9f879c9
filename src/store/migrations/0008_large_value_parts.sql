-- Large bytea values (SDK payloads and envelopes of up to ~40 MB) are written in parts (docs/sdk.md "Memory",
-- issue 7): one parameter of 40 MB would be copied whole into node-postgres' Bind message next to the value
-- itself. The parts are staged here and joined by the server (string_agg) into the target column in the same
-- transaction, which then deletes them: no row outlives its transaction, so the table is UNLOGGED (nothing to
-- recover after a crash; it is emptied then) and never read by anything else.
-- Up Migration
CREATE UNLOGGED TABLE large_value_parts (
  write_id  uuid    NOT NULL,
  seq       integer NOT NULL,
  part      bytea   NOT NULL,
  PRIMARY KEY (write_id, seq)
);

-- Down Migration
DROP TABLE large_value_parts;
