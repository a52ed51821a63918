import { dataComment, readRecorded as readData, table, writeSection as writeFileSection } from './report-file';
import type { DeliveryResult, PublishResult, Spread } from './translate-run';

type Result = DeliveryResult | PublishResult;

const HEADING = '## Machine translation and delivery (`npm run bench:translate`)';
const MARKER = 'bench-translate-data';
const TARGET = 0.97;

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '–');
const ms = (s: Spread) => (s.n === 0 ? '–' : `${Math.round(s.p50)} / ${Math.round(s.p99)}`);
const on = (r: DeliveryResult) => (!r.needs ? 'notice alone' : r.translation ? 'needs, translation on' : 'needs, translation off');

/** A result replaces the recorded one of the same part, driver and mode. */
function key(r: Result): string {
  return r.kind === 'delivery' ? `delivery:${r.driver}:${r.needs}:${r.translation}` : `publish:${r.driver}`;
}

export function readRecorded(file: string): Result[] {
  return readData<Result>(file, MARKER);
}

export function mergeResults(recorded: Result[], fresh: Result[]): Result[] {
  const merged = new Map(recorded.map((r) => [key(r), r]));
  for (const r of fresh) merged.set(key(r), r);
  return [...merged.values()];
}

function deliveryRows(results: DeliveryResult[]): string[][] {
  return results.map((r) => [
    r.driver,
    on(r),
    f1(r.notice.wallSeconds),
    `**${f3(r.notice.wallFraction)}**`,
    f3(r.notice.spanFraction),
    `${r.notice.lost} / ${r.notice.duplicated}`,
    String(r.notice.rateLimited),
    `${f3(r.window.fraction)} (${r.window.notice.toLocaleString('en')} + ${r.window.notifications} + ${r.window.edits})`,
    `${r.posts.published} (${r.posts.duringNotice})`,
    `${ms(r.notifications.firstMessageMs.quiet)} · ${ms(r.notifications.firstMessageMs.duringNotice)}`,
    `${r.notifications.crossLanguage.sent}: ${r.notifications.crossLanguage.translated} / ${r.notifications.crossLanguage.editedLater} / ${r.notifications.crossLanguage.original}`,
    r.translation ? `${ms(r.notifications.translatedMs.quiet)} · ${ms(r.notifications.translatedMs.duringNotice)}` : '–',
    ms(r.posts.publishMs),
    r.engineRequests === null ? '–' : String(r.engineRequests),
    r.cpuMsPerMessage ? `${r.cpuMsPerMessage.process.toFixed(2)} / ${r.cpuMsPerMessage.database === null ? '–' : r.cpuMsPerMessage.database.toFixed(2)}` : '–',
  ]);
}

const DELIVERY_HEADER = [
  'Driver',
  'Case',
  'Notice wall s',
  'Notice rate / limit (wall)',
  'Rate / limit (first→last)',
  'Lost / dup.',
  '429s',
  'All sends in the window / limit (notice + notifications + edits)',
  'Needs (during the notice)',
  'Notification delay p50 / p99 ms: quiet · during the notice',
  'Other-language readers: translated / edited later / original',
  'Translation in the chat p50 / p99 ms: quiet · during',
  'publishPost p50 / p99 ms',
  'Engine requests',
  'CPU ms per message: bench process / PostgreSQL',
];

function publishRows(results: PublishResult[]): string[][] {
  return results.map((r) => [
    r.driver,
    r.helpers.toLocaleString('en'),
    `${r.off.n} / ${r.on.n}`,
    `${f1(r.off.p50)} / ${f1(r.off.p99)} / ${f1(r.off.max)}`,
    `${f1(r.on.p50)} / ${f1(r.on.p99)} / ${f1(r.on.max)}`,
    `${(r.on.p50 / r.off.p50).toFixed(2)} / ${(r.on.p99 / r.off.p99).toFixed(2)}`,
    f1(r.meanRecipients),
    r.jobsMatch ? 'yes' : '**no**',
  ]);
}

const PUBLISH_HEADER = ['Driver', 'Helpers', 'Posts off / on', 'Off: p50 / p99 / max ms', 'On: p50 / p99 / max ms', 'On ÷ off: p50 / p99', 'Recipients / post', 'One job per post with translation'];

function targetRows(results: DeliveryResult[]): string[][] {
  return results.map((r) => {
    const met = r.notice.wallFraction >= TARGET && r.notice.lost === 0 && r.notice.duplicated === 0;
    return [
      `${r.driver}, ${on(r)}: notice to ${r.recipients.toLocaleString('en')} at ≥ ${TARGET} of ${r.rate}/s, none lost or twice`,
      `${f1(r.notice.wallRate)}/s = ${f3(r.notice.wallFraction)} of the limit; ${r.notice.lost} lost, ${r.notice.duplicated} duplicated`,
      met ? '**met**' : '**not met**',
    ];
  });
}

function runRows(results: Result[]): string[][] {
  return results.map((r) => [
    r.kind === 'delivery' ? `${r.driver}, ${on(r)}` : `${r.driver}, publishPost`,
    r.date,
    `${r.load.start} → ${r.load.end}`,
    r.kind === 'delivery'
      ? `${r.recipients.toLocaleString('en')} seekers, ${r.helpers.toLocaleString('en')} helpers, a need every ${r.postEveryMs} ms from ${r.leadSeconds} s before; ${r.rate}/s, Bot API ${r.latencyMs} ms; engine ${r.engineDelayMs} ms, TRANSLATE_WAIT ${r.translateWait}; fan-out ${Math.round(r.notice.fanOutMs)} ms; notified ${r.posts.notified}; left pending ${r.leftover}; warnings ${r.warnings}${r.errors.length ? `; errors: ${r.errors.join('; ')}` : ''}`
      : `${r.warmup} warm-up posts; ${r.helpers.toLocaleString('en')} helpers with five subscriptions each`,
    `\`${r.command}\``,
  ]);
}

export function renderConsole(results: Result[]): string {
  const delivery = results.filter((r): r is DeliveryResult => r.kind === 'delivery');
  const publish = results.filter((r): r is PublishResult => r.kind === 'publish');
  return [...table(DELIVERY_HEADER, deliveryRows(delivery)), '', ...table(PUBLISH_HEADER, publishRows(publish)), '', ...table(['Target', 'Measured', 'Verdict'], targetRows(delivery))].join('\n');
}

/** The section: what is measured, the tables, the verdicts and the runs. */
export function renderSection(results: Result[]): string {
  const delivery = results.filter((r): r is DeliveryResult => r.kind === 'delivery');
  const publish = results.filter((r): r is PublishResult => r.kind === 'publish');
  return [
    HEADING,
    '',
    ...SECTION_INTRO,
    '',
    '### A notice while needs are translated',
    '',
    ...table(DELIVERY_HEADER, deliveryRows(delivery)),
    '',
    '### publishPost with and without the translation job',
    '',
    ...table(PUBLISH_HEADER, publishRows(publish)),
    '',
    '### Targets',
    '',
    ...table(['Target', 'Measured', 'Verdict'], targetRows(delivery)),
    '',
    '### Runs',
    '',
    'Load: the 1-minute load average of the shared 2-core machine when the measured part started → ended.',
    '',
    ...table(['Case', 'Date', 'Load', 'Details', 'Command'], runRows(results)),
    '',
    ...dataComment(MARKER, results),
    '',
  ].join('\n');
}

export function writeSection(file: string, section: string): void {
  writeFileSection(file, HEADING, section);
}

const SECTION_INTRO = [
  'What machine translation costs delivery, with translation off and on **in the same run** (same machine,',
  'same load; compare within a driver, not across runs).',
  '',
  '- **The notice** (the production path of `bench:broadcast`): N seekers, uk/de/ru a third each, a staff author,',
  '  `sendNotice()` with the text in all three languages, delivered by the background work exactly as',
  '  `src/background.ts` starts it (DeliveryWorker, `BROADCAST_RATE`, the translation job, the sweeps) against the',
  '  Bot API stand-in in its own process (answers after 50 ms, 429 above the limit). 300/s rather than the',
  "  default 30/s, so that 10,000 people take ~34 s instead of 333 s (`--rate`). With translation on,",
  '  `TRANSLATE_URL` points at a LibreTranslate stand-in in its own process (`test/helpers/fake-translate.ts` over',
  '  HTTP) that answers every request after 200 ms (`--engine-delay`).',
  '- **Needs at the same time**: from 10 s before the notice until it is delivered, one need a second',
  '  (`publishPost()` as the /need dialog calls it, first wave of `WAVE_SIZE` = 10 helpers, uk/de/ru needs in',
  '  turn) on 3,000 helpers of all three languages (five subscriptions each, seeded like `bench:match`). With',
  '  translation on, each need gets its translation job (two targets, 2 × 200 ms) and its other-language',
  '  readers wait for it (at most `TRANSLATE_WAIT`), then get it translated — or in the original with an edit',
  '  later, all through the same governor as the notice.',
  '- **Notice rate / limit (wall)** = recipients ÷ (time from `sendNotice()` to the stand-in receiving the last',
  '  notice message) ÷ limit: the target’s figure. *First→last* is `bench:broadcast`’s figure (accepted − 1 over',
  '  the span of the notice’s messages). **All sends in the window**: everything the governor sent between the',
  '  notice’s first and last message (notice, notifications, edits) ÷ the span ÷ the limit — the notifications take',
  '  their share of the same limit, before the notice (their priority is higher).',
  '- **Notification delay**: `publishPost()`’s commit → Telegram’s answer to the notification (outbox `sent_at`);',
  '  *quiet* = needs before the notice, *during* = needs while it was sent. **Other-language readers**: their',
  '  notification went out translated, in the original and *edited later* into the translation, or stayed in',
  '  the original. **Translation in the chat**: commit → the translated text delivered (notification or edit).',
  '- **publishPost** alone: `bench:match`’s seeding (10,000 helpers), first wave of 10, translation off and on',
  '  post by post on the same database; with it on, the transaction also writes the translation job row.',
];
