-- The local read copy of the national SDK address book (../shared/specs/sdk.md §3 "SDK Adressbok": an MT "may
-- keep a local read copy"; docs/sdk.md "Address book"): one row holding the last complete download, so a
-- restart while the national read API is unavailable still checks recipients and incoming function addresses
-- against the copy it had, instead of having none.
-- Up Migration
CREATE TABLE sdk_address_book_copy (
  id          boolean     PRIMARY KEY DEFAULT true CHECK (id),  -- exactly one row
  snapshot    jsonb       NOT NULL,                             -- {fetchedAt, organisations[], entries[]}
  fetched_at  timestamptz NOT NULL,
  saved_at    timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE sdk_address_book_copy;
