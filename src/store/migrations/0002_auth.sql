-- Login at LoA3 and authorization (issue 4; ../shared/specs/oidc-loa3.md §5.1, §7.3–7.4, §8, §6.5):
-- provisioned users and their roles, server-side login transactions and sessions, the organisation's own
-- function addresses (funktionsadresser) and the grants that let a person or system send from / read them.

-- Up Migration
CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The identity claim that identifies the person (oidc-loa3.md §7.3). Only a hash of the value is kept, so a
  -- personnummer never sits in clear in this table (see src/auth/identity.ts identityHash).
  identity_type  text NOT NULL CHECK (identity_type IN ('personalIdentityNumber', 'coordinationNumber', 'orgAffiliation', 'employeeHsaId')),
  identity_hash  text NOT NULL,
  display_name   text,
  -- Filled at login: the OP's issuer and subject, so grants can name the person as principalId() `person:<sub>`.
  issuer         text,
  sub            text,
  enabled        boolean NOT NULL DEFAULT true,
  created_by     text NOT NULL,               -- principalId() of the administrator, or "system" (bootstrap)
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz,
  UNIQUE (identity_type, identity_hash)
);
CREATE UNIQUE INDEX users_issuer_sub ON users (issuer, sub) WHERE sub IS NOT NULL;

CREATE TABLE user_roles (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('admin', 'auditor', 'caseworker')),
  granted_by  text NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, role)
);

-- One row per started login (state, nonce, PKCE verifier held server side; oidc-loa3.md §8.2). The cookie
-- carries a random id; only its SHA-256 is stored. Used once: the callback deletes the row whatever happens.
CREATE TABLE login_transactions (
  id_hash        bytea PRIMARY KEY,
  state          text NOT NULL,
  nonce          text NOT NULL,
  code_verifier  text NOT NULL,
  return_to      text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_transactions_created ON login_transactions (created_at);

-- Server-side sessions (oidc-loa3.md §8.1). The cookie holds a 256-bit random id; only its SHA-256 is stored.
CREATE TABLE sessions (
  id_hash       bytea PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  issuer        text NOT NULL,
  sub           text NOT NULL,
  sid           text,                          -- the OP's session id claim, for back-channel logout
  acr           text NOT NULL,
  amr           text[] NOT NULL DEFAULT '{}',
  auth_time     timestamptz NOT NULL,
  id_token      text NOT NULL,                 -- kept server side only, as id_token_hint for RP-initiated logout
  csrf_token    text NOT NULL,                 -- synchronizer token (oidc-loa3.md §8.4)
  claim_roles   text[] NOT NULL DEFAULT '{}',  -- roles from OIDC_ROLES_CLAIM at login (added to the table roles)
  display_name  text,
  org_number    text,
  hsa_id        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_issuer_sid ON sessions (issuer, sid);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- The organisation's own function addresses (SDK funktionsadresser, sdk.md: opaque, at most 256 characters,
-- compared exactly).
CREATE TABLE function_addresses (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  address     text NOT NULL UNIQUE CHECK (char_length(address) BETWEEN 1 AND 256),
  name        text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Who may send from / read a function address: one row per (address, principal, permission).
-- principal_id is principalId() of src/domain/principal.ts: `person:<sub>` or `system:<client_id>`.
CREATE TABLE grants (
  function_address_id  uuid NOT NULL REFERENCES function_addresses (id) ON DELETE CASCADE,
  principal_id         text NOT NULL CHECK (principal_id ~ '^(person|system):.+'),
  permission           text NOT NULL CHECK (permission IN ('send', 'read')),
  granted_by           text NOT NULL,
  granted_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (function_address_id, principal_id, permission)
);
CREATE INDEX grants_principal ON grants (principal_id, permission);

-- Down Migration
DROP TABLE grants;
DROP TABLE function_addresses;
DROP TABLE sessions;
DROP TABLE login_transactions;
DROP TABLE user_roles;
DROP TABLE users;
