// Mina meddelanden namespace URIs (../shared/specs/digital-post.md §6.2). Matching is always by URI: real
// answers use arbitrary prefixes.
export const MM_NS = {
  SENDER: 'http://minameddelanden.gov.se/schema/Sender',
  RECIPIENT: 'http://minameddelanden.gov.se/schema/Recipient',
  RECIPIENT_V3: 'http://minameddelanden.gov.se/schema/Recipient/v3',
  MESSAGE_V1: 'http://minameddelanden.gov.se/schema/Message',
  MESSAGE_V2: 'http://minameddelanden.gov.se/schema/Message/v2',
  MESSAGE_V3: 'http://minameddelanden.gov.se/schema/Message/v3',
  SERVICE: 'http://minameddelanden.gov.se/schema/Service',
  SERVICE_V3: 'http://minameddelanden.gov.se/schema/Service/v3',
  COMMON_V3: 'http://minameddelanden.gov.se/schema/Common/v3',
} as const;

/** The largest serialised deliverSecure request Sundsvall and Digg allow (§6.4, §10 #6). */
export const MAX_DELIVER_SECURE_BYTES = 2_097_152;
/** FaR's per-call limit on recipient ids (XSD maxOccurs, §5.2). */
export const MAX_RECIPIENTS_PER_LOOKUP = 1000;
