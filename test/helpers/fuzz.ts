import { sql } from 'drizzle-orm';
import type { Message } from 'grammy/types';
import { KNOWN_COMMANDS } from '../../src/bot/commands';
import { type Database, queryRows } from '../../src/db';

// ------------------------------------------------------------------ a small seeded PRNG

/** mulberry32: tiny, fast and good enough to make a fuzz run reproducible from one number. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: `[[3, 'a'], [1, 'b']]` gives 'a' three times as often. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    const total = entries.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, value] of entries) {
      r -= w;
      if (r < 0) return value;
    }
    return entries[entries.length - 1]![1];
  }
}

// ------------------------------------------------------------------ texts

/** Pieces that have broken chat bots before: markup, SQL, bidi controls, emoji sequences, three alphabets. */
const FRAGMENTS = [
  'Hallo',
  'Ich brauche Hilfe beim Ausfüllen eines Formulars für das Jobcenter.',
  'Größe, Straße, Übergabe – ß, ÄÖÜ äöü',
  "Шукаю житло для сім'ї з двома дітьми в Гамборні.",
  'Нужен переводчик на приём к врачу, пожалуйста.',
  'Ґанок, їжак, є, ІІ',
  '<b>',
  '</b>',
  '</i>',
  '<i>nicht geschlossen',
  '<b>fett</b>',
  '<script>alert(1)</script>',
  '<a href="javascript:alert(1)">link</a>',
  '<blockquote>',
  '<tg-spoiler>',
  '&amp;',
  '&',
  '&lt;',
  '&gt;',
  '&#0;',
  '&#x1F600;',
  '&nbsp;',
  '&unknown;',
  '<',
  '>',
  '"',
  "'",
  "'; drop table users; --",
  "Robert'); DELETE FROM posts WHERE ('1'='1",
  '$1',
  '%s %d %n',
  '{{name}}',
  '$t(errors.generic)',
  '\\',
  '`code`',
  '*fett* _kursiv_',
  '\u200f',
  '\u200e',
  '\u202e',
  '\u202a',
  '\u2066',
  '\u2069',
  '\u200d',
  '\u200b',
  '\ufeff',
  '\u00ad',
  'e\u0301\u0301\u0301',
  '👍',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '🇺🇦',
  '🇩🇪',
  '❤️',
  '🧑🏽‍💻',
  '😀',
  '+49 170 1234567',
  '@someone_else',
  'https://t.me/hilfenetz_test_bot?start=staff_AAAAAAAAAAAAAAAAAAAAAAAA',
  '/start',
  '/help',
  '#1',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '99999999999999999999999999999',
  '\n',
  '\r\n',
  '\t',
  ' ',
  'مرحبا بكم',
  '你好',
  'שלום',
  'ﷺ',
  'Ⅻ',
];

/** Code point ranges for random text, without surrogates (lone surrogates cannot travel in JSON). */
const RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa0, 0x24f],
  [0x300, 0x36f],
  [0x400, 0x4ff],
  [0x590, 0x6ff],
  [0x2000, 0x206f],
  [0x3040, 0x30ff],
  [0x4e00, 0x4fff],
  [0xfe00, 0xfe0f],
  [0x1f300, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0xe0020, 0xe007f],
];

function randomUnicode(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = rng.pick(RANGES);
    s += String.fromCodePoint(rng.int(lo, hi));
  }
  return s;
}

function controlChars(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(rng.chance(0.9) ? rng.int(0, 0x1f) : 0x7f);
  return s;
}

function fragments(rng: Rng, count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(rng.pick(FRAGMENTS));
  return parts.join(rng.pick(['', ' ', '\n', ' · ']));
}

/** Exactly `length` UTF-16 units made of one repeated piece (markup-heavy pieces grow when escaped). */
function filled(rng: Rng, length: number): string {
  const unit = rng.pick(['x', 'ä', '&', '<', 'я', '😀', '<b>', '&amp;', 'ab ', '👨‍👩‍👧‍👦']);
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/**
 * Names for /intake, each with whether the bot takes it: good ones, ones at the limit, and phone numbers,
 * usernames, links and markup posing as names.
 */
export const INTAKE_NAMES: readonly (readonly [name: string, accepted: boolean])[] = [
  ['Olena', true],
  ['Мар’яна Д.', true],
  ["D'Artagnan", true],
  ['O. K.', true],
  ['Дарʼя', true],
  ['O\u0301lena', true],
  ['x'.repeat(40), true],
  ['x'.repeat(41), false],
  ['Olena 0176 1234567', false],
  ['+49 203 283 0', false],
  ['@olena_k', false],
  ['olena@example.org', false],
  ['https://t.me/olena', false],
  ['olena.de', false],
  ['Olena, Hauptstr. 5', false],
  ['<b>Olena</b>', false],
  ['Olena\u202eanelO', false],
  ['Ole\u200bna', false],
  ['-', false],
  ["'", false],
  ['...', false],
  ['Олена\nКиїв 5', false],
];

/** A message text as people (and broken clients) send them. */
export function fuzzText(rng: Rng): string {
  const kind = rng.weighted([
    [3, 'empty'],
    [3, 'space'],
    [3, 'one'],
    [4, 'long'],
    [4, 'boundary'],
    [20, 'fragments'],
    [6, 'control'],
    [8, 'unicode'],
    [10, 'sentence'],
    [4, 'name'],
  ] as const);
  switch (kind) {
    case 'empty':
      return '';
    case 'space':
      return rng.pick([' ', '   ', '\n', '\t \n', '\u00a0', '\u200b', '\u3000']);
    case 'one':
      return rng.pick(['a', '.', '/', '<', '&', '😀', 'я', '\u0000', '\u202e', '@']);
    case 'long':
      return rng.chance(0.5) ? filled(rng, rng.pick([4096, 5000])) : fragments(rng, 400).slice(0, rng.pick([4096, 5000]));
    case 'boundary':
      // Around the limits of posts (10–1000), relayed messages (3800), notices (3500) and captions (1024).
      return filled(rng, rng.pick([9, 10, 999, 1000, 1001, 1023, 1024, 1025, 3499, 3500, 3501, 3799, 3800, 3801]));
    case 'fragments':
      return fragments(rng, rng.int(1, 12));
    case 'control':
      return `${fragments(rng, 2)}${controlChars(rng, rng.int(1, 8))}${fragments(rng, 1)}`;
    case 'unicode':
      return randomUnicode(rng, rng.int(1, 200));
    case 'sentence':
      return rng.pick([
        'Ich suche eine Wohnung für meine Familie in Hamborn, bitte helfen Sie mir.',
        'Можу допомогти з перекладом документів українською та німецькою.',
        'Помогу с переездом в субботу, есть машина.',
        'Biete Deutschunterricht für Kinder an, zweimal pro Woche.',
      ]);
    case 'name':
      // What a Lotse might type as the name of the person they post for (/intake): fine, borderline and forged.
      return rng.pick(INTAKE_NAMES)[0];
  }
}

// ------------------------------------------------------------------ commands and deep links

export const COMMANDS = [...KNOWN_COMMANDS];
const UNKNOWN_COMMANDS = ['foo', 'admin', 'sudo', 'ban', 'root', 'START', 'Start', 'старт', 'a'.repeat(33), 'x'.repeat(64), 'del_me', '_', '0'];

function base64url(rng: Rng, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

/** A /start payload: valid-looking, malformed, and links that exist (a used staff code, real post ids). */
export function startPayload(rng: Rng, known: { usedStaffCode?: string; postIds: number[] }): string {
  return rng.weighted<() => string>([
    [3, () => ''],
    [4, () => `staff_${base64url(rng, rng.int(16, 48))}`],
    [2, () => (known.usedStaffCode ? `staff_${known.usedStaffCode}` : 'staff_')],
    [2, () => `staff_${base64url(rng, rng.pick([0, 5, 15, 49, 60]))}`],
    [1, () => `staff_${fuzzText(rng).slice(0, 40)}`],
    [4, () => `post_${known.postIds.length > 0 ? rng.pick(known.postIds) : 1}`],
    [3, () => `post_${rng.pick(['0', '-1', '01', '99999999999', '2147483647', '2147483648', 'abc', '1.5', '1e3', ''])}`],
    // The links of channel cards and shared cards, real and forged: a real id with something added, overlong, another case.
    [3, () => {
      const id = known.postIds.length > 0 ? rng.pick(known.postIds) : 1;
      return rng.pick([`post_${id}`, `post_${id}x`, `post_${id}_${id}`, `post_${id}-uk`, `post-${id}`, `Post_${id}`, `post_${'1'.repeat(10)}`, `post_${'1'.repeat(59)}`, 'share', 'SHARE', 'share_1', `share${'x'.repeat(60)}`]);
    }],
    // Poster links: valid ones, an unknown district, a forged language or version, overlong.
    [2, () => rng.pick(['p1-uk-hamborn', 'p1-de', 'p1-ru-mitte', 'p1-uk-atlantis', 'p1-en-mitte', 'p2-uk-mitte', 'p1-uk-hamborn-x', `p1-uk-${'a'.repeat(60)}`])],
    [1, () => rng.pick(['POST_1', 'Staff_x', 'post_1 post_2', 'post__1', ' post_1', 'post_1\n', '%00', '..%2f', 'x'.repeat(64), 'x'.repeat(65)])],
    [2, () => fuzzText(rng).slice(0, 100)],
  ])();
}

/** A command line: known or unknown command, addressed or not, with junk arguments. */
export function commandText(rng: Rng, known: { usedStaffCode?: string; postIds: number[] }): string {
  const command = rng.chance(0.85) ? rng.pick(COMMANDS) : rng.pick(UNKNOWN_COMMANDS);
  const address = rng.weighted([
    [10, ''],
    [2, '@hilfenetz_test_bot'],
    [1, '@HILFENETZ_TEST_BOT'],
    [1, '@other_bot'],
    [1, '@'],
  ] as const);
  const args =
    command === 'start'
      ? startPayload(rng, known)
      : rng.weighted<() => string>([
          [4, () => ''],
          [5, () => fuzzText(rng).slice(0, rng.pick([20, 300, 5000]))],
          [1, () => rng.pick(['Caritas Duisburg', 'X', '<b>Amt</b>', 'Sozialamt\u202e', 'a'.repeat(81), '1', '-1', '*', 'staff_x'])],
        ])();
  const separator = args === '' ? '' : rng.pick([' ', ' ', '  ', '\n', '\t']);
  return `${rng.chance(0.04) ? ' ' : ''}/${command}${address}${separator}${args}`;
}

// ------------------------------------------------------------------ media and other message kinds

/** A message body of an unexpected kind: stickers, voice, files of all sorts, places, polls, dice. */
export function mediaContent(rng: Rng, fileId: string, caption: () => string): { kind: string; content: Partial<Message>; photo?: boolean } {
  const file = { file_id: fileId, file_unique_id: `${fileId}u` };
  const withCaption = (content: Record<string, unknown>) => (rng.chance(0.5) ? { ...content, caption: caption() } : content);
  const kind = rng.weighted([
    [6, 'photo'],
    [3, 'sticker'],
    [2, 'voice'],
    [4, 'document'],
    [2, 'video'],
    [1, 'video_note'],
    [1, 'audio'],
    [1, 'animation'],
    [2, 'location'],
    [1, 'venue'],
    [2, 'contact'],
    [1, 'poll'],
    [1, 'dice'],
    [1, 'forwarded'],
    [1, 'media_group'],
  ] as const);
  const photo = [
    { ...file, file_id: `${fileId}_s`, width: 90, height: 90, file_size: 1_000 },
    { ...file, width: 1280, height: 960, file_size: 120_000 },
  ];
  const build = (): Record<string, unknown> => {
    switch (kind) {
      case 'photo':
        return withCaption({ photo });
      case 'media_group':
        return { photo, media_group_id: String(rng.int(1, 1e9)), ...(rng.chance(0.5) ? { caption: caption() } : {}) };
      case 'sticker':
        return { sticker: { ...file, type: rng.pick(['regular', 'mask', 'custom_emoji']), width: 512, height: 512, is_animated: rng.chance(0.3), is_video: rng.chance(0.3), emoji: '😀' } };
      case 'voice':
        return withCaption({ voice: { ...file, duration: rng.int(0, 600), mime_type: 'audio/ogg' } });
      case 'document': {
        const mime = rng.pick(['application/pdf', 'image/jpeg', 'application/x-msdownload', 'text/html', 'application/octet-stream', '', undefined]);
        const name = rng.pick(['scan.pdf', 'Bescheid.PDF', '<b>x</b>.pdf', 'a'.repeat(300), 'evil.exe', '\u202egpj.exe', undefined]);
        return withCaption({ document: { ...file, ...(mime !== undefined ? { mime_type: mime } : {}), ...(name !== undefined ? { file_name: name } : {}) } });
      }
      case 'video':
        return withCaption({ video: { ...file, width: 640, height: 480, duration: 12 } });
      case 'video_note':
        return { video_note: { ...file, length: 240, duration: 5 } };
      case 'audio':
        return withCaption({ audio: { ...file, duration: 200, title: fuzzText(rng).slice(0, 50) } });
      case 'animation':
        return withCaption({ animation: { ...file, width: 200, height: 200, duration: 3 }, document: { ...file, mime_type: 'video/mp4' } });
      case 'location':
        return { location: { latitude: rng.int(-90, 90) + rng.next(), longitude: rng.int(-180, 180) + rng.next() } };
      case 'venue':
        return {
          location: { latitude: 51.43, longitude: 6.76 },
          venue: { location: { latitude: 51.43, longitude: 6.76 }, title: fuzzText(rng).slice(0, 60), address: fuzzText(rng).slice(0, 60) },
        };
      case 'contact':
        return { contact: { phone_number: rng.pick(['+4917012345678', '+380501234567', '0', '']), first_name: fuzzText(rng).slice(0, 64) || 'X', ...(rng.chance(0.5) ? { user_id: rng.int(1, 1e9) } : {}) } };
      case 'poll':
        return {
          poll: {
            id: String(rng.int(1, 1e9)),
            question: fuzzText(rng).slice(0, 300) || '?',
            options: [
              { text: 'Ja', voter_count: 0 },
              { text: fuzzText(rng).slice(0, 100) || 'Nein', voter_count: 0 },
            ],
            total_voter_count: 0,
            is_closed: false,
            is_anonymous: true,
            type: 'regular',
            allows_multiple_answers: false,
          },
        };
      case 'dice':
        return { dice: { emoji: rng.pick(['🎲', '🎯', '🏀']), value: rng.int(1, 6) } };
      case 'forwarded':
        return {
          text: fuzzText(rng) || 'weitergeleitet',
          forward_origin: { type: 'hidden_user', sender_user_name: fuzzText(rng).slice(0, 30) || 'X', date: 1 },
        };
    }
  };
  return { kind, content: build(), photo: kind === 'photo' || kind === 'media_group' };
}

// ------------------------------------------------------------------ callback data

const IDS = ['1', '2', '3', '4', '5', '6', '7', '8', '10', '12', '15', '20', '30'];
const JUNK_IDS = ['0', '-1', '01', '1.5', '1e3', '0x1', '2147483647', '2147483648', '99999999999', 'NaN', '', ' 1', '１', 'abc', '9'.repeat(40)];
const KEYS = ['hamborn', 'mitte', 'walsum', 'sued', '*', 'housing', 'health', 'authorities', 'other', 'nonexistent', 'Hamborn', 'a', '_', '../x', 'x'.repeat(24), 'x'.repeat(25), '🏠'];
const LOCALE_VALUES = ['uk', 'de', 'ru', 'en', 'UK', 'de-DE'];
const REASONS = ['spam', 'harassment', 'inappropriate', 'other', '-', 'x'];

/** Every codec prefix with the values each of its fields takes (valid ones and close misses). */
const CODECS: Record<string, readonly (readonly string[])[]> = {
  o: [['lang', 'role', 'dist', 'back'], ['seeker', 'helper', 'staff', 'coordinator', 'role', ...LOCALE_VALUES, ...KEYS]],
  s: [['menu', 'role', 'dist', 'lang', 'setrole', 'setdist', 'setlang'], ['-', 'seeker', 'helper', 'staff', 'coordinator', ...LOCALE_VALUES, ...KEYS]],
  l: [LOCALE_VALUES],
  m: [['need', 'offer', 'browse', 'subscribe', 'my', 'broadcast', 'moderation', 'stats', 'staff', 'invite', 'desk', 'intake']],
  p: [['view', 'photo', 'edit', 'renew', 'done', 'close', 'delete'], IDS],
  c: [['req', 'acc', 'dec', 'end', 'block', 'to', 'ask'], IDS],
  r: [['post', 'relay', 'notice', 'user'], IDS, REASONS],
  d: [['cat', 'dist', 'lang', 'back', 'skip', 'publish', 'cancel', 'nophoto', 'goto'], ['-', 'language', 'name', 'category', 'district', 'text', 'photo', 'preview', ...LOCALE_VALUES, ...KEYS]],
  b: [['l', 'c', 'd'], ['need', 'offer'], KEYS, KEYS, ['0', '1', '2', '199', '200', '201', '999', '-1', '1000']],
  sb: [
    ['home', 'cats', 'dists', 'pause', 'resume', 'cap', 'quiet', 'done', 'allc', 'nonec', 'tc', 'td', 'setcap', 'setq'],
    ['-', 'def', '5', '10', '20', '50', '7', '0', '-1', 'q2207', 'q2108', 'q2306', 'off', ...KEYS],
  ],
  sf: [['revoke', 'promote', 'grant'], IDS],
  n: [['stop', 'view'], IDS],
  bc: [['aud', 'td', 'tl', 'next', 'skip', 'back', 'cancel', 'send', 'nomedia'], ['-', 'everyone', 'seekers', 'helpers', 'staff', 'all', ...LOCALE_VALUES, ...KEYS]],
  mo: [['home', 'rep', 'dis', 'rem', 'warn', 'ban', 'banr', 'unban', 'pend', 'appr', 'rej', 'bl'], ['0', ...IDS], REASONS],
  st: [['refresh', 'csv']],
  pv: [['delete', 'keep'], IDS],
  w: [['no', 'pause', 'stop'], IDS],
  vr: [['ask', 'send', 'ok']],
  vf: [['ok', 'no', 'lok', 'lno', 'wd', 'wdy', 'wo', 'woy', 'list', 'grant'], ['-', '0', ...IDS]],
  fs: [IDS],
  // /channels (coordinators): the list, connecting, one channel's district and language, checking, disconnecting.
  chn: [['list', 'add', 'view', 'dists', 'dist', 'lang', 'check', 'del', 'delok'], ['-', ...IDS], ['-', ...LOCALE_VALUES, ...KEYS]],
};
export const CALLBACK_PREFIXES = Object.keys(CODECS);

/**
 * Forged callback data for a known prefix: mostly well-formed with fields that may point at real
 * objects (small ids), sometimes out of range, non-numeric, of the wrong enum, with a field too many or
 * too few, or over Telegram's 64 bytes.
 */
export function forgedCallbackData(rng: Rng): string {
  const prefix = rng.pick(CALLBACK_PREFIXES);
  const fields = CODECS[prefix]!.map((values) => {
    if (rng.chance(0.25)) return rng.pick([...JUNK_IDS, ...KEYS, fuzzText(rng).slice(0, 12)]);
    // Ids mostly name objects that exist (the setup creates the first few of each kind).
    if (values === IDS && rng.chance(0.6)) return String(rng.int(1, 6));
    return rng.pick(values);
  });
  if (rng.chance(0.07)) fields.push(rng.pick(['x', '1', '', '-']));
  if (rng.chance(0.07)) fields.pop();
  let data = [prefix, ...fields].join(':');
  if (rng.chance(0.03)) data = `${data}${'9'.repeat(70)}`;
  if (rng.chance(0.03)) data = data.toUpperCase();
  return data;
}

/** Callback data that belongs to no codec at all. */
export function randomCallbackData(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => fuzzText(rng).slice(0, rng.int(1, 80))],
    [2, () => randomUnicode(rng, rng.int(1, 30))],
    [2, () => rng.pick(['', ':', '::::', 'c:', 'p:', 'mo::', 'o:lang', 'p:view:1:extra', 'b:l:need:*:*:0:0', 'n:view:1 ', ' n:view:1', 'null', '{}', '[]'])],
    [1, () => `b:l:need:*:*:${'0'.repeat(60)}`],
    [1, () => Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(32, 126))).toString('latin1')],
  ])();
}

// ------------------------------------------------------------------ database snapshots

type Row = Record<string, unknown>;

/** The state the privileged-state check compares, per table, keyed by primary key. */
export interface Snapshot {
  users: Map<string, Row>;
  posts: Map<string, Row>;
  contacts: Map<string, Row>;
  relays: Map<string, Row>;
  blocks: Map<string, Row>;
  subscriptions: Map<string, Row>;
  reports: Map<string, Row>;
  invites: Map<string, Row>;
  notices: Map<string, Row>;
  verifications: Map<string, Row>;
  organisations: Map<string, Row>;
  members: Map<string, Row>;
  audit: Map<string, Row>;
  sessions: Map<string, Row>;
  outboxMax: number;
  /** Outbox rows of notices, counted by notice, status and error. */
  noticeRows: Map<string, number>;
  /** Outbox rows with an id above the previous snapshot's maximum. */
  outboxNew: Row[];
}

const SNAPSHOT_TABLES: Record<Exclude<keyof Snapshot, 'outboxMax' | 'noticeRows' | 'outboxNew'>, { query: string; key: (r: Row) => string }> = {
  users: {
    query: `select id, telegram_id, first_name, username, locale, role, organisation, lotse, district, onboarded_at, notifications_paused, paused_until, daily_cap,
      quiet_start, quiet_end, blocked_at, banned_at, ban_reason, deleted_at, last_seen_at from users`,
    key: (r) => String(r.id),
  },
  posts: {
    query: `select id, author_id, kind, category, district, md5(coalesce(text, '~null~')) as text, photo_file_id, language, status, published_at,
      updated_at, expires_at, reminded_at, closed_at, first_response_at, erased_at, intake_name, intake_language, intake_organisation from posts`,
    key: (r) => String(r.id),
  },
  contacts: { query: 'select * from contacts', key: (r) => String(r.id) },
  relays: {
    query: `select id, contact_id, sender_id, recipient_id, md5(coalesce(text, '~null~')) as text, photo_file_id, source_message_id,
      delivered_message_id, erased_at from relay_messages`,
    key: (r) => String(r.id),
  },
  blocks: { query: 'select * from blocks', key: (r) => `${String(r.blocker_id)}>${String(r.blocked_id)}` },
  subscriptions: { query: 'select user_id, kind, category, district from subscriptions', key: (r) => `${String(r.user_id)}|${String(r.kind)}|${String(r.category)}|${String(r.district)}` },
  reports: { query: 'select * from reports', key: (r) => String(r.id) },
  invites: { query: 'select * from invites', key: (r) => String(r.id) },
  verifications: { query: 'select * from verifications', key: (r) => String(r.user_id) },
  organisations: { query: 'select * from organisations', key: (r) => String(r.id) },
  members: { query: 'select * from organisation_members', key: (r) => `${String(r.organisation_id)}|${String(r.user_id)}` },
  notices: {
    query: `select id, author_id, organisation, audience, districts, languages, md5(texts::text) as texts, media_type, media_file_id, status,
      recipient_count, created_at, finished_at, cancelled_at from notices`,
    key: (r) => String(r.id),
  },
  audit: { query: 'select * from audit_log', key: (r) => String(r.id) },
  sessions: { query: 'select key, md5(value::text) as value from sessions', key: (r) => String(r.key) },
};

/** One statement for the whole snapshot (fast on PGlite and PostgreSQL alike). */
export async function takeSnapshot(db: Database, previousOutboxMax: number): Promise<Snapshot> {
  const parts = Object.entries(SNAPSHOT_TABLES).map(([name, t]) => `'${name}', (select coalesce(json_agg(t), '[]'::json) from (${t.query}) t)`);
  const query = `select json_build_object(${parts.join(', ')},
    'outboxMax', (select coalesce(max(id), 0) from outbox),
    'noticeRows', (select coalesce(json_agg(t), '[]'::json) from (select notice_id, status, coalesce(error, '') as error, count(*)::int as n
       from outbox where notice_id is not null group by 1, 2, 3) t),
    'outboxNew', (select coalesce(json_agg(t), '[]'::json) from (select id, user_id, kind, notice_id, post_id, status, payload
       from outbox where id > ${Number(previousOutboxMax)}) t))::text as snap`;
  const [row] = await queryRows<{ snap: string }>(db, sql.raw(query));
  const raw = JSON.parse(row!.snap) as Record<string, unknown>;
  const snapshot = { outboxMax: Number(raw.outboxMax), outboxNew: raw.outboxNew as Row[] } as Snapshot;
  for (const [name, t] of Object.entries(SNAPSHOT_TABLES)) {
    (snapshot as unknown as Record<string, Map<string, Row>>)[name] = new Map((raw[name] as Row[]).map((r) => [t.key(r), r]));
  }
  snapshot.noticeRows = new Map((raw.noticeRows as Row[]).map((r) => [`${String(r.notice_id)}|${String(r.status)}|${String(r.error)}`, Number(r.n)]));
  return snapshot;
}

function changedColumns(a: Row, b: Row): string[] {
  const columns = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...columns].filter((c) => JSON.stringify(a[c]) !== JSON.stringify(b[c]));
}

function show(row: Row | undefined, columns?: string[]): string {
  if (!row) return '∅';
  const picked = columns ? Object.fromEntries(columns.map((c) => [c, row[c]])) : row;
  return JSON.stringify(picked).slice(0, 300);
}

const SELF_CHOSEN = [null, 'seeker', 'helper'];
const OWN_POST_MOVES = new Set([
  'open>in_contact',
  'open>fulfilled',
  'open>closed',
  'in_contact>fulfilled',
  'in_contact>closed',
  'pending_review>closed',
  'pending_review>fulfilled',
  'expired>open',
]);
const AUTHOR_CONTACT_MOVES = new Set(['offered>accepted', 'offered>declined', 'offered>cancelled', 'offered>ended', 'accepted>ended']);
const RESPONDER_CONTACT_MOVES = new Set(['offered>cancelled', 'offered>ended', 'accepted>ended']);

/**
 * What one update changed that its sender was not allowed to change. `telegramId` is the sender
 * (undefined for updates without one). Privileges follow the sender's role before the update:
 * coordinators may do anything, staff may broadcast; everyone may change their own profile (but not to
 * a granted role, nor their organisation or ban), their own posts, conversations they take part in,
 * blocks and reports they make, their subscriptions and session, and may erase their own data.
 */
export function forbiddenChanges(before: Snapshot, after: Snapshot, telegramId: number | undefined): string[] {
  const out: string[] = [];
  const byTelegram = (s: Snapshot) => (telegramId === undefined ? undefined : [...s.users.values()].find((u) => Number(u.telegram_id) === telegramId));
  const actorBefore = byTelegram(before);
  const actorRow = actorBefore ?? byTelegram(after);
  const actor = actorRow ? Number(actorRow.id) : undefined;
  const role = (actorBefore?.role as string | null | undefined) ?? null;
  // Coordinators may change anything (also someone the fuzz made coordinator on the way).
  if (role === 'coordinator') return [];
  const mayBroadcast = role === 'staff';
  const mine = (id: unknown) => actor !== undefined && id !== null && Number(id) === actor;

  const each = (name: keyof Snapshot, check: (key: string, b: Row | undefined, a: Row | undefined) => void) => {
    const b = before[name] as Map<string, Row>;
    const a = after[name] as Map<string, Row>;
    for (const [key, row] of b) {
      const next = a.get(key);
      if (!next || changedColumns(row, next).length > 0) check(key, row, next);
    }
    for (const [key, row] of a) if (!b.has(key)) check(key, undefined, row);
  };

  each('users', (key, b, a) => {
    if (!a) return void out.push(`users#${key} disappeared`);
    if (!b) {
      // First contact: the sender's own row, at most with a role they chose in the same update.
      if (!mine(a.id) || !SELF_CHOSEN.includes(a.role as string | null) || a.banned_at !== null || a.organisation !== null) out.push(`users#${key} created: ${show(a)}`);
      return;
    }
    const columns = changedColumns(b, a);
    if (!mine(a.id)) return void out.push(`users#${key} (someone else) changed ${show(b, columns)} → ${show(a, columns)}`);
    const roleOk = b.role === a.role || (SELF_CHOSEN.includes(b.role as string | null) && (a.role === 'seeker' || a.role === 'helper'));
    const telegramOk = b.telegram_id === a.telegram_id || Number(a.telegram_id) === -Number(a.id);
    const privileged = ['organisation', 'lotse', 'banned_at', 'ban_reason'].filter((c) => columns.includes(c));
    if (!roleOk || !telegramOk || privileged.length > 0) out.push(`users#${key} (own) changed ${show(b, columns)} → ${show(a, columns)}`);
  });

  each('posts', (key, b, a) => {
    if (!a) return void out.push(`posts#${key} disappeared`);
    if (!b) {
      if (!mine(a.author_id) || !['open', 'pending_review'].includes(String(a.status))) out.push(`posts#${key} created: ${show(a)}`);
      // A need for someone without Telegram (/intake): Lotsen only (coordinators returned above).
      if (a.intake_language !== null && !(role === 'staff' && actorBefore?.lotse === true)) out.push(`posts#${key} taken for someone else by a non-Lotse: ${show(a)}`);
      return;
    }
    const columns = changedColumns(b, a);
    if (!mine(b.author_id)) {
      // Offering help to someone else's post stamps its first response; nothing else may change.
      if (columns.length === 1 && columns[0] === 'first_response_at' && b.first_response_at === null) return;
      return void out.push(`posts#${key} (someone else's) changed ${show(b, columns)} → ${show(a, columns)}`);
    }
    if (a.author_id !== b.author_id || a.kind !== b.kind) out.push(`posts#${key} (own) changed owner/kind`);
    // Whom an intake need is for and whose organisation vouches stay as written; the person may only be erased.
    const intakeMoved = ['intake_name', 'intake_language', 'intake_organisation'].filter((c) => columns.includes(c) && !(c !== 'intake_organisation' && a[c] === null && a.erased_at !== null));
    if (intakeMoved.length > 0) out.push(`posts#${key} (own) changed ${show(b, intakeMoved)} → ${show(a, intakeMoved)}`);
    if (b.status !== a.status && !OWN_POST_MOVES.has(`${String(b.status)}>${String(a.status)}`)) out.push(`posts#${key} (own) status ${String(b.status)} → ${String(a.status)}`);
  });

  each('contacts', (key, b, a) => {
    if (!a) return void out.push(`contacts#${key} disappeared`);
    if (!b) {
      if (!mine(a.responder_id) || mine(a.author_id) || a.status !== 'offered') out.push(`contacts#${key} created: ${show(a)}`);
      return;
    }
    const columns = changedColumns(b, a);
    const moves = mine(b.author_id) ? AUTHOR_CONTACT_MOVES : mine(b.responder_id) ? RESPONDER_CONTACT_MOVES : undefined;
    if (!moves) return void out.push(`contacts#${key} (someone else's) changed ${show(b, columns)} → ${show(a, columns)}`);
    if (['post_id', 'author_id', 'responder_id'].some((c) => columns.includes(c)) || (b.status !== a.status && !moves.has(`${String(b.status)}>${String(a.status)}`))) {
      out.push(`contacts#${key} (${mine(b.author_id) ? 'author' : 'responder'}) changed ${show(b, columns)} → ${show(a, columns)}`);
    }
  });

  each('relays', (key, b, a) => {
    if (!a) return void out.push(`relay_messages#${key} disappeared`);
    if (!b) {
      const contact = before.contacts.get(String(a.contact_id));
      const partner = contact && (mine(contact.author_id) ? contact.responder_id : mine(contact.responder_id) ? contact.author_id : undefined);
      if (!mine(a.sender_id) || contact?.status !== 'accepted' || partner === undefined || Number(partner) !== Number(a.recipient_id)) {
        out.push(`relay_messages#${key} created: ${show(a)} (contact ${show(contact)})`);
      }
      return;
    }
    if (!mine(b.sender_id)) out.push(`relay_messages#${key} (someone else's) changed ${show(b, changedColumns(b, a))} → ${show(a, changedColumns(b, a))}`);
  });

  each('blocks', (key, b, a) => {
    if (!a || b) return void out.push(`blocks ${key} ${a ? 'changed' : 'disappeared'}`);
    if (!mine(a.blocker_id)) out.push(`blocks ${key} created by someone else`);
  });

  each('subscriptions', (key, b, a) => {
    const row = (a ?? b)!;
    if (!mine(row.user_id)) out.push(`subscriptions ${key} of someone else ${a ? 'added' : 'removed'}`);
  });

  each('reports', (key, b, a) => {
    if (!a || b) return void out.push(`reports#${key} ${a ? `changed ${show(b, changedColumns(b!, a))} → ${show(a, changedColumns(b!, a))}` : 'disappeared'}`);
    if (!mine(a.reporter_id) || a.status !== 'open' || a.handled_by !== null || a.action !== null) out.push(`reports#${key} created: ${show(a)}`);
  });

  each('invites', (key, b, a) => out.push(`invites#${key} ${!a ? 'disappeared' : !b ? `created: ${show(a)}` : `changed ${show(b, changedColumns(b, a))} → ${show(a, changedColumns(b, a))}`}`));

  each('notices', (key, b, a) => {
    if (!a) return void out.push(`notices#${key} disappeared`);
    if (!mayBroadcast || !mine(a.author_id) || (b && !mine(b.author_id))) {
      out.push(`notices#${key} ${b ? `changed ${show(b, changedColumns(b, a))} → ${show(a, changedColumns(b, a))}` : `created: ${show(a)}`}`);
    }
  });

  const deletedSelf = [...after.audit.values()].some((r) => !before.audit.has(String(r.id)) && r.action === 'user.deleted' && mine(r.actor_id) && mine(r.target_user_id));
  each('audit', (key, b, a) => {
    if (!a || b) return void out.push(`audit_log#${key} ${a ? 'changed' : 'disappeared'}`);
    // Erasing one's own data, asking to be verified, and a seeker's "report a problem" are one's own business.
    const ownDeletion = (a.action === 'user.deleted' || a.action === 'verification.requested') && mine(a.actor_id) && mine(a.target_user_id);
    const ownSafetyReport = a.action === 'report.safety' && mine(a.actor_id);
    const noticeId = (a.details as { noticeId?: number } | null)?.noticeId;
    const ownNotice = mayBroadcast && mine(a.actor_id) && (a.action === 'notice.sent' || a.action === 'notice.cancelled') && mine(after.notices.get(String(noticeId))?.author_id);
    if (!ownDeletion && !ownNotice && !ownSafetyReport) out.push(`audit_log#${key} created: ${show(a)}`);
  });

  // A request for one's own verification; deciding it (verified, declined, withdrawn) is a coordinator's.
  each('verifications', (key, _b, a) => {
    if (!a || !mine(a.user_id) || a.status !== 'requested' || a.decided_by !== null) out.push(`verifications#${key} ${a ? `now ${show(a)}` : 'disappeared'}`);
  });
  each('organisations', (key) => out.push(`organisations#${key} changed`));
  each('members', (key) => out.push(`organisation_members ${key} changed`));

  each('sessions', (key) => {
    if (telegramId === undefined || key !== String(telegramId)) out.push(`sessions ${key} (someone else's) changed`);
  });

  for (const row of after.outboxNew) {
    const kind = String(row.kind);
    const payload = (row.payload ?? {}) as Record<string, unknown>;
    const contact = typeof payload.contactId === 'number' ? after.contacts.get(String(payload.contactId)) : undefined;
    const takesPart = contact !== undefined && (mine(contact.author_id) || mine(contact.responder_id));
    const ok =
      kind === 'notice'
        ? mayBroadcast && mine(after.notices.get(String(row.notice_id))?.author_id)
        : kind === 'post.notify'
          ? mine(after.posts.get(String(row.post_id))?.author_id)
          : kind === 'relay'
            ? takesPart && (Number(payload.fromChatId) === telegramId || payload.fromChatId === undefined)
            : kind.startsWith('contact.')
              ? takesPart
              : kind === 'verification.request'
                ? mine(payload.userId)
                : kind === 'report.urgent'
                  ? mine(after.reports.get(String(payload.reportId))?.reporter_id)
                  : false;
    if (!ok) out.push(`outbox#${String(row.id)} queued: ${show(row)}`);
  }

  // Notice deliveries: only the author (or a coordinator) may stop them; erasing one's own data cancels
  // the one row addressed to oneself.
  const noticeKeys = new Set([...before.noticeRows.keys(), ...after.noticeRows.keys()]);
  const moved = new Map<string, number>();
  for (const key of noticeKeys) {
    const [noticeId, status, error] = key.split('|') as [string, string, string];
    const newRows = after.outboxNew.filter((r) => String(r.notice_id) === noticeId && String(r.status) === status).length;
    const delta = (after.noticeRows.get(key) ?? 0) - newRows - (before.noticeRows.get(key) ?? 0);
    if (delta === 0 || (mayBroadcast && mine(after.notices.get(noticeId)?.author_id))) continue;
    const allowed = deletedSelf && ((status === 'pending' && delta === -1) || (status === 'cancelled' && error === 'recipient deleted' && delta === 1));
    if (!allowed) moved.set(key, delta);
  }
  if (moved.size > 0) out.push(`outbox rows of notices changed: ${JSON.stringify(Object.fromEntries(moved))}`);
  return out;
}

/**
 * The privileged state compared over a whole phase (from its first to its last update): roles,
 * organisations and bans of every person, invites, notices, the audit log, how reports were handled, and
 * blocks. Nobody in the phase may have changed them, except that `broadcaster` (the staff member, when
 * they take part) may send and stop their own notices, and anyone may report something or erase their
 * own data (which the audit log records).
 */
export function privilegedChanges(before: Snapshot, after: Snapshot, options: { broadcaster?: number } = {}): string[] {
  const out: string[] = [];
  const PRIVILEGED = ['role', 'organisation', 'lotse', 'banned_at', 'ban_reason'];
  for (const [key, b] of before.users) {
    const a = after.users.get(key);
    const columns = a ? changedColumns(b, a).filter((c) => PRIVILEGED.includes(c)) : PRIVILEGED;
    // Choosing between seeker and helper is not a privilege.
    const selfChosen = columns.length === 1 && columns[0] === 'role' && SELF_CHOSEN.includes(b.role as string | null) && SELF_CHOSEN.includes(a!.role as string | null);
    if (columns.length > 0 && !selfChosen) out.push(`users#${key}: ${show(b, columns)} → ${show(a, columns)}`);
  }
  for (const [key, a] of after.users) {
    if (!before.users.has(key) && (!SELF_CHOSEN.includes(a.role as string | null) || a.organisation !== null || a.banned_at !== null)) out.push(`users#${key} new: ${show(a, PRIVILEGED)}`);
  }
  const exact = (name: 'invites' | 'notices' | 'verifications' | 'organisations' | 'members', allowed: (row: Row) => boolean = () => false) => {
    const keys = new Set([...before[name].keys(), ...after[name].keys()]);
    for (const key of keys) {
      const b = before[name].get(key);
      const a = after[name].get(key);
      if (b && a && changedColumns(b, a).length === 0) continue;
      if (a && (!b || allowed(b)) && allowed(a)) continue;
      out.push(`${name}#${key}: ${b && a ? `${show(b, changedColumns(b, a))} → ${show(a, changedColumns(b, a))}` : `${show(b)} → ${show(a)}`}`);
    }
  };
  exact('invites');
  exact('organisations');
  exact('members');
  // Asking to be verified is anyone's own business; deciding (verified, declined, withdrawn) is a coordinator's.
  const requested = (row: Row) => row.status === 'requested' && row.decided_by === null;
  exact('verifications', requested);
  exact('notices', (row) => options.broadcaster !== undefined && Number(row.author_id) === options.broadcaster);
  for (const [key, b] of before.audit) if (!after.audit.has(key)) out.push(`audit_log#${key} disappeared: ${show(b)}`);
  for (const [key, a] of after.audit) {
    if (before.audit.has(key)) continue;
    const ownDeletion = (a.action === 'user.deleted' || a.action === 'verification.requested') && a.actor_id === a.target_user_id;
    // A seeker's "report a problem" about their own conversation's helper (the report itself is checked below).
    const ownSafetyReport = a.action === 'report.safety';
    const ownNotice = options.broadcaster !== undefined && Number(a.actor_id) === options.broadcaster && (a.action === 'notice.sent' || a.action === 'notice.cancelled');
    if (!ownDeletion && !ownNotice && !ownSafetyReport) out.push(`audit_log#${key} new: ${show(a)}`);
  }
  const HANDLING = ['status', 'action', 'handled_by', 'handled_at', 'target_user_id', 'reporter_id'];
  for (const [key, b] of before.reports) {
    const a = after.reports.get(key);
    const columns = a ? changedColumns(b, a).filter((c) => HANDLING.includes(c)) : HANDLING;
    if (columns.length > 0) out.push(`reports#${key}: ${show(b, columns)} → ${show(a, columns)}`);
  }
  for (const [key, a] of after.reports) {
    if (!before.reports.has(key) && (a.status !== 'open' || a.handled_by !== null || a.action !== null)) out.push(`reports#${key} new: ${show(a)}`);
  }
  for (const [key, b] of before.blocks) if (!after.blocks.has(key)) out.push(`blocks ${key} disappeared: ${show(b)}`);
  return out;
}
