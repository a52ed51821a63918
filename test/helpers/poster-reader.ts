import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/**
 * Reads posters back the way a person's phone and a PDF viewer would: the text of a PDF's pages (pdf.js,
 * Mozilla's PDF reader) and the content of a QR code in a PNG (jsQR, a QR scanner on raw pixels).
 */
export async function pdfText(pdf: Buffer): Promise<{ pages: number; text: string }> {
  // pdf.js is an ES module; its legacy build runs on Node without a browser.
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), useSystemFonts: false, isEvalSupported: false }).promise;
  const parts: string[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const content = await (await doc.getPage(n)).getTextContent();
    for (const item of content.items) if ('str' in item) parts.push(item.str, item.hasEOL ? '\n' : '');
  }
  await doc.destroy();
  return { pages: doc.numPages, text: parts.join('') };
}

/** The text a QR code in this PNG holds, or null when no code can be read. */
export function readQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  const code = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
  return code?.data ?? null;
}
