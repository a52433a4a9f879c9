// Renders a text or HTML letter as a simple A4 PDF for the print provider (digital-post.md §8.2: A4 portrait,
// fonts embedded, no JavaScript, wide left margin for the provider's control marks). PDFs pass through untouched.
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import type { LetterRenderer } from '../../src/ports/letter-renderer.port.js';

const A4: [number, number] = [595.28, 841.89];
const MARGIN_LEFT = 72; // ≥ 18 mm for control marks
const MARGIN = 56;

function htmlToText(html: string): string {
  return html
    .replace(/<\s*(br|\/p|\/div|\/h[1-6]|\/li)\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

export function createPdfRenderer(): LetterRenderer {
  return {
    async toPdf(letter) {
      if (letter.bodyType === 'application/pdf') return letter.body;
      const text = letter.bodyType === 'text/html' ? htmlToText(letter.body.toString('utf8')) : letter.body.toString('utf8');
      const doc = await PDFDocument.create();
      const font = await doc.embedFont(StandardFonts.Helvetica);
      const bold = await doc.embedFont(StandardFonts.HelveticaBold);
      const size = 11;
      const width = A4[0] - MARGIN_LEFT - MARGIN;
      // StandardFonts use WinAnsi: characters outside it (rare in Swedish letters) are replaced.
      const safe = (s: string) => [...s].map((c) => { try { font.encodeText(c); return c; } catch { return '?'; } }).join('');
      const lines: { text: string; bold?: boolean }[] = [{ text: safe(letter.senderName), bold: true }, { text: '' }, { text: safe(letter.subject), bold: true }, { text: '' }];
      for (const para of safe(text).split('\n')) {
        let line = '';
        for (const word of para.split(/\s+/)) {
          const next = line ? `${line} ${word}` : word;
          if (font.widthOfTextAtSize(next, size) > width && line) { lines.push({ text: line }); line = word; } else line = next;
        }
        lines.push({ text: line });
      }
      let page = doc.addPage(A4);
      let y = A4[1] - MARGIN;
      for (const l of lines) {
        if (y < MARGIN) { page = doc.addPage(A4); y = A4[1] - MARGIN; }
        page.drawText(l.text, { x: MARGIN_LEFT, y, size, font: l.bold ? bold : font });
        y -= size * 1.4;
      }
      doc.setTitle(safe(letter.subject));
      doc.setProducer('Sändebud');
      return Buffer.from(await doc.save({ useObjectStreams: false }));
    },
  };
}
