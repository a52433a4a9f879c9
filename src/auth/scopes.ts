// OAuth scopes of the REST API (oidc-loa3.md §6.4; sdk.md §10; B1.4.2 / sdk-api-restful.yml).
// A scope grants an *operation*, never *data*: which function addresses a system may use is decided by
// Sändebud's grants table (src/auth/grants.ts), not by the token.

/** SDK MT–MK API: send a message (`POST /sdk/messages`). Digg's recommendation, operation-level name. */
export const SCOPE_SDK_SEND_MESSAGE = 'urn:sdk.api:sendMessage';
/**
 * SDK MT–MK API: the plural spelling used by `securitySchemes` in sdk-api-restful.yml and by B1.4.2
 * (oidc-loa3.md §11.9). Accepted wherever SCOPE_SDK_SEND_MESSAGE is required; never required itself.
 */
export const SCOPE_SDK_SEND_MESSAGES_ALIAS = 'urn:sdk.api:sendMessages';
/** SDK MT–MK API: read one message by id (`GET /sdk/messages/{id}`). */
export const SCOPE_SDK_GET_MESSAGE = 'urn:sdk.api:getMessage';
/** SDK MT–MK API: list / filter messages (`GET /sdk/messages?filter[…]`). */
export const SCOPE_SDK_GET_MESSAGE_BY_FILTER = 'urn:sdk.api:getMessageByFilter';
/** SDK MT–MK API: delete a received message by id (`DELETE /sdk/messages/{id}`). */
export const SCOPE_SDK_DELETE_MESSAGE = 'urn:sdk.api:deleteMessage';
/** Sändebud digital post (Mina meddelanden, paper fallback): send letters and check reachability. */
export const SCOPE_DIGITAL_POST_SEND = 'urn:sandebud:digital-post:send';
/** Sändebud digital post: read delivery status, receipts and events of letters. */
export const SCOPE_DIGITAL_POST_READ = 'urn:sandebud:digital-post:read';
/** Sändebud signing: create sign requests at the central signing service. */
export const SCOPE_SIGNING_SIGN = 'urn:sandebud:signing:sign';
/** Sändebud signing: validate signed documents. */
export const SCOPE_SIGNING_VALIDATE = 'urn:sandebud:signing:validate';
/** Sändebud administration API (`/v1/admin`): function addresses, grants, users and roles. */
export const SCOPE_ADMIN = 'urn:sandebud:admin';

/** The SDK MT–MK scopes, as issued to SDK-only systems. */
export const SDK_SCOPES = [SCOPE_SDK_SEND_MESSAGE, SCOPE_SDK_GET_MESSAGE, SCOPE_SDK_GET_MESSAGE_BY_FILTER, SCOPE_SDK_DELETE_MESSAGE] as const;
/** Every scope a case-management system may hold (everything except administration). */
export const SYSTEM_SCOPES = [...SDK_SCOPES, SCOPE_DIGITAL_POST_SEND, SCOPE_DIGITAL_POST_READ, SCOPE_SIGNING_SIGN, SCOPE_SIGNING_VALIDATE] as const;
/** Every scope this API knows. */
export const ALL_SCOPES = [...SYSTEM_SCOPES, SCOPE_ADMIN] as const;

/** Scopes that also satisfy a required scope (oidc-loa3.md §11.9). */
const EQUIVALENTS: Readonly<Record<string, readonly string[]>> = {
  [SCOPE_SDK_SEND_MESSAGE]: [SCOPE_SDK_SEND_MESSAGES_ALIAS],
};

/** True when `granted` satisfies `required`, including the documented equivalents. Exact string match otherwise. */
export function hasScope(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  return (EQUIVALENTS[required] ?? []).some((alt) => granted.includes(alt));
}

/** Split an RFC 6749 `scope` claim (space-separated string) into its values. */
export function parseScope(claim: unknown): string[] {
  if (typeof claim !== 'string') return [];
  return claim.split(' ').filter((s) => s.length > 0);
}
