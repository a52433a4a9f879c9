// sdk.md §15: the three schematrons (XPath 2.0) are ported to code, one function per rule id.
// Shared types of those ports.
import type { Document as XDocument } from '@xmldom/xmldom';

export interface RuleViolation {
  /** The schematron rule id (pattern id for the message rules, assert id for XHE / receipt rules). */
  ruleId: string;
  /** Canonical XPath of the node the rule fired on. */
  path: string;
  /** Our own wording of the assertion; never contains values from the document. */
  text: string;
}

export type SchematronRule = (doc: XDocument) => RuleViolation[];
