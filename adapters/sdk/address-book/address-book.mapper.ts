// sdk.md §3 "SDK Adressbok": the shape of the national address book's public read API as we consume it, and
// the mapping to our local read copy. ASSUMPTION (docs/as4.md "Address book"): the digest says JSON:API style,
// read-only, no authorisation, but gives no paths; we read two paged collections,
//   GET <base>/api/v1/organizations?page[number]=N&page[size]=M   (type "organizations")
//   GET <base>/api/v1/addresses?page[number]=N&page[size]=M       (type "addresses", relationship "organization")
// following `links.next` until it is absent. Attribute names follow the information model in sdk.md §3.
import { z } from 'zod';
import type { AddressBookOrganisation } from '../../../src/ports/sdk.port.js';

const text = (max: number): z.ZodString => z.string().max(max);

export const organizationResource = z.object({
  type: z.literal('organizations'),
  id: z.string().min(1).max(128),
  attributes: z.object({
    participantIdentifier: text(256).min(1),
    organizationNumber: z.string().regex(/^\d{10}$/),
    name: text(256).min(1),
    alternateName: text(256).optional().nullable(),
    description: text(1024).optional().nullable(),
    countryCode: z.string().regex(/^[A-Z]{2}$/).optional().nullable(),
    organizationType: z.enum(['o', 'ou']).optional().nullable(),
  }),
});

export const addressResource = z.object({
  type: z.literal('addresses'),
  id: z.string().min(1).max(128),
  attributes: z.object({
    identifier: text(256).min(1),
    shortName: text(256).optional().nullable(),
    description: text(1024).optional().nullable(),
    categories: z.array(text(256)).max(100).optional().nullable(),
    keywords: z.array(text(256)).max(100).optional().nullable(),
  }),
  relationships: z.object({ organization: z.object({ data: z.object({ type: z.literal('organizations'), id: z.string().min(1).max(128) }) }) }),
});

export const page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    data: z.array(item),
    links: z.object({ next: z.string().max(2048).optional().nullable() }).partial().optional(),
  });

export type OrganizationResource = z.infer<typeof organizationResource>;
export type AddressResource = z.infer<typeof addressResource>;

/** The organisation a function address is listed under: the port's type (src/ports/sdk.port.ts). */
export type { AddressBookOrganisation };

export interface AddressBookEntry {
  /** The function address (opaque, compared exactly: sdk.md §2, §14.14). */
  identifier: string;
  shortName?: string;
  organisation: AddressBookOrganisation;
}

/** The local read copy: JSON-serialisable, so a store can keep it as one document. */
export interface AddressBookSnapshot {
  fetchedAt: string;
  organisations: AddressBookOrganisation[];
  entries: AddressBookEntry[];
}

/**
 * Join addresses to their organisations. Addresses whose organisation is missing from the organisation list
 * are dropped (and counted): an address we cannot attribute cannot be checked against a recipient.
 */
export function toSnapshot(orgs: readonly OrganizationResource[], addresses: readonly AddressResource[], fetchedAt: Date): { snapshot: AddressBookSnapshot; orphans: number } {
  const byId = new Map<string, AddressBookOrganisation>();
  for (const o of orgs) byId.set(o.id, { participantId: o.attributes.participantIdentifier, organizationNumber: o.attributes.organizationNumber, name: o.attributes.name });
  const entries: AddressBookEntry[] = [];
  let orphans = 0;
  for (const a of addresses) {
    const org = byId.get(a.relationships.organization.data.id);
    if (org === undefined) {
      orphans++;
      continue;
    }
    const shortName = a.attributes.shortName ?? undefined;
    entries.push({ identifier: a.attributes.identifier, ...(shortName ? { shortName } : {}), organisation: org });
  }
  return { snapshot: { fetchedAt: fetchedAt.toISOString(), organisations: [...byId.values()], entries }, orphans };
}
