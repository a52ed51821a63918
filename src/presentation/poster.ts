import { createRequire } from 'node:module';
import type { CityDirectory } from '../city';
import { WHOLE_CITY } from '../city';
import type { Locale } from '../config';
import type { Translator } from '../i18n';

/**
 * DejaVu Sans from the dejavu-fonts-ttf package: it has Cyrillic (and German) glyphs, ships in
 * node_modules, and nothing is fetched at run time. pdfkit embeds the subset of glyphs a poster uses.
 */
const fontFiles = (() => {
  const require = createRequire(__filename);
  return {
    regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
    bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
  };
})();

/**
 * pdfkit and qrcode are loaded on the first poster, not at start: pdfkit alone takes about a second to
 * load on a busy machine, and most processes never draw a poster.
 */
async function libraries() {
  const [pdfkit, qrcode] = await Promise.all([import('pdfkit'), import('qrcode')]);
  return { PDFDocument: pdfkit.default, QRCode: qrcode.default };
}

/** What a poster shows: where it hangs, in which language, and the link its QR code opens. */
export interface PosterSpec {
  /** A district key or WHOLE_CITY. */
  district: string;
  locale: Locale;
  /** The t.me link with the poster's start parameter. */
  link: string;
}

/** The printable poster and the QR code alone. */
export interface Poster {
  pdf: Buffer;
  png: Buffer;
}

/** The QR code alone: black on white, with the quiet zone the standard asks for, large enough to print. */
export async function renderQrPng(link: string): Promise<Buffer> {
  const { QRCode } = await libraries();
  // Error correction M: readable with a fold or a smudge, and still few modules for a t.me link.
  return QRCode.toBuffer(link, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 16 });
}

/**
 * An A4 poster: a headline and a short text in the poster's language (and in German below, unless the
 * poster is German), the district's name, a large QR code and the link written out for those who type it.
 */
export async function renderPoster(spec: PosterSpec, env: { city: CityDirectory; i18n: Translator }): Promise<Poster> {
  const { city, i18n } = env;
  // Plain text for the PDF: the translator escapes values for Telegram's HTML, which a PDF must not show.
  const say = (locale: Locale, key: string) =>
    i18n.t(locale, `poster.sheet.${key}`, { city: city.city.name[locale], interpolation: { escapeValue: false } });
  const area = (locale: Locale) => (spec.district === WHOLE_CITY ? city.districtName(WHOLE_CITY, locale) : city.districtName(spec.district, locale));
  const { PDFDocument, QRCode } = await libraries();
  const qr = QRCode.create(spec.link, { errorCorrectionLevel: 'M' });
  const png = await renderQrPng(spec.link);

  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    info: { Title: `Hilfenetz – ${area('de')}`, Author: 'Hilfenetz', Subject: spec.link },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', fontFiles.regular);
  doc.registerFont('bold', fontFiles.bold);

  const width = doc.page.width - 96;
  const left = 48;
  doc.font('bold').fontSize(30).text(say(spec.locale, 'headline'), left, 56, { width, align: 'center' });
  doc.moveDown(0.3);
  doc.font('bold').fontSize(22).fillColor('#1f4e8c').text(area(spec.locale), { width, align: 'center' });
  doc.fillColor('black').moveDown(0.6);
  doc.font('regular').fontSize(14).text(say(spec.locale, 'body'), { width, align: 'center' });
  if (spec.locale !== 'de') {
    doc.moveDown(0.6);
    doc.font('regular').fontSize(11).fillColor('#444444').text(`${say('de', 'headline')} – ${area('de')}. ${say('de', 'body')}`, { width, align: 'center' });
    doc.fillColor('black');
  }

  // The QR code as vector squares: sharp at any print size.
  const size = 300;
  const modules = qr.modules.size;
  const quiet = 4;
  const cell = size / (modules + 2 * quiet);
  const top = Math.max(doc.y + 20, 330);
  const x0 = (doc.page.width - size) / 2;
  doc.rect(x0, top, size, size).fill('white');
  for (let row = 0; row < modules; row++) {
    for (let col = 0; col < modules; col++) {
      if (qr.modules.get(row, col)) doc.rect(x0 + (col + quiet) * cell, top + (row + quiet) * cell, cell, cell);
    }
  }
  doc.fill('black');

  doc.font('bold').fontSize(13).text(say(spec.locale, 'scan'), left, top + size + 14, { width, align: 'center' });
  if (spec.locale !== 'de') doc.font('regular').fontSize(10).fillColor('#444444').text(say('de', 'scan'), { width, align: 'center' }).fillColor('black');
  doc.moveDown(0.5);
  doc.font('regular').fontSize(12).text(spec.link, { width, align: 'center', link: spec.link });
  doc.font('regular').fontSize(9).fillColor('#666666').text(say(spec.locale, 'footer'), left, doc.page.height - 72, { width, align: 'center' });
  doc.end();
  return { pdf: await finished, png };
}
