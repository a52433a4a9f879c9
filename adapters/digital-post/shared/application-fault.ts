// Reading the applicationFault detail of a Mina meddelanden SOAP fault (../shared/specs/digital-post.md §5.7,
// §6.7): ExceptionInformation(ErrorCode, Description, CallId) in Common/v3. Shared by the FaR and the
// operator adapters' errors.ts; upstream Description text is returned for logs only, never for callers.
import type { Element } from '@xmldom/xmldom';
import { isNamed, optionalText } from '../../shared/xml-safe-parse.js';
import { MM_NS } from './namespaces.js';

export interface ApplicationFault {
  errorCode?: number;
  callId?: string;
  description?: string;
}

/** Find and read `c3:applicationFault` among the SOAP fault's detail children. */
export function readApplicationFault(detail: readonly Element[]): ApplicationFault | undefined {
  const af = detail.find((e) => isNamed(e, MM_NS.COMMON_V3, 'applicationFault'));
  if (!af) return undefined;
  const codeText = optionalText(af, MM_NS.COMMON_V3, 'ErrorCode');
  const code = codeText !== undefined && /^[0-9]{1,4}$/.test(codeText) ? Number(codeText) : undefined;
  const callId = optionalText(af, MM_NS.COMMON_V3, 'CallId');
  return {
    errorCode: code,
    // CallIds are printable tokens; anything else is cut so a hostile answer cannot inject log lines.
    callId: callId !== undefined ? callId.replace(/[^\x21-\x7e]/g, '').slice(0, 50) : undefined,
    description: optionalText(af, MM_NS.COMMON_V3, 'Description')?.slice(0, 200),
  };
}
