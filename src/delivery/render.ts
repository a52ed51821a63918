import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import type { Config, Locale } from '../config';
import type { Database } from '../db';
import type { OutboxRow, UserRow } from '../db/schema';
import type { OutboxKind, OutboxPayload } from '../domain/outbox-kinds';
import type { TFunction, Translator } from '../i18n';
import type { TranslationAccess } from '../translate/service';
import type { RenderBatch } from './render-batch';

/** What a renderer may use; the recipient is loaded for it, and what its batch shares is in `batch`. */
export interface RenderEnv {
  db: Database;
  clock: Clock;
  config: Config;
  city: CityDirectory;
  i18n: Translator;
  botUsername: string;
  recipient: UserRow;
  locale: Locale;
  t: TFunction;
  /** Posts and block pairs of the claimed batch, loaded once for all its rows. */
  batch: RenderBatch;
  /** Machine translation, when TRANSLATE_URL is set (absent: texts go out as written, as before). */
  translation?: TranslationAccess;
}

/** A Bot API call ready to be sent. */
export interface OutgoingCall {
  method: 'sendMessage' | 'sendPhoto' | 'sendDocument' | 'copyMessage' | 'editMessageText' | 'editMessageCaption' | 'deleteMessage';
  payload: Record<string, unknown>;
}

/** What to do with one outbox row. */
export type RenderResult =
  | { send: OutgoingCall; afterSend?: (messageId: number) => Promise<void>; afterFailure?: (description: string) => Promise<void> }
  // (afterSend gets the sent or edited message's id; a call Telegram answers with True, such as deleteMessage, gets 0.
  // afterFailure gets Telegram's description when the row failed for good — not for a retry, a 429 or a lost chat.)
  /** Not sent, with a final status: the post is gone (cancelled), over the daily cap (deferred). */
  | { skip: 'cancelled' | 'deferred' | 'unreachable'; reason: string }
  /** Not now (quiet hours): try again at this time. */
  | { reschedule: Date; reason: string };

/**
 * Turns an outbox row of kind K into a message in the recipient's language, at the moment it is sent.
 * `payload` is the row's payload parsed by the kind's schema (src/domain/outbox-kinds.ts).
 */
export type Renderer<K extends OutboxKind = OutboxKind> = (row: OutboxRow, payload: OutboxPayload<K>, env: RenderEnv) => Promise<RenderResult>;

/** One renderer per outbox kind: a kind added to the catalogue without a renderer does not compile. */
export type RendererRegistry = { [K in OutboxKind]: Renderer<K> };

/** The renderers one feature contributes (createRenderers() checks that together they cover every kind). */
export type RendererGroup = Partial<RendererRegistry>;
