// Turns a letter into the PDF the print provider prints (paper fallback, digital-post.md §8.2).
export interface LetterRenderer {
  /** A4 PDF with the letter text (HTML is reduced to text). A PDF body is returned unchanged: never re-encode a PDF (§6.4). */
  toPdf(letter: { subject: string; bodyType: 'text/plain' | 'text/html' | 'application/pdf'; body: Buffer; senderName: string }): Promise<Buffer>;
}
