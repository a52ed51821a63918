import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import type { Config, Locale } from '../config';
import type { Database } from '../db';
import type { OutboxRow, UserRow } from '../db/schema';
import type { TFunction, Translator } from '../i18n';

/** What a renderer may use; the recipient is loaded for it. */
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
}

/** A Bot API call ready to be sent. */
export interface OutgoingCall {
  method: 'sendMessage' | 'sendPhoto' | 'sendDocument' | 'copyMessage';
  payload: Record<string, unknown>;
}

/** What to do with one outbox row. */
export type RenderResult =
  | { send: OutgoingCall; afterSend?: (messageId: number) => Promise<void> }
  /** Not sent, with a final status: the post is gone (cancelled), over the daily cap (deferred). */
  | { skip: 'cancelled' | 'deferred' | 'unreachable'; reason: string }
  /** Not now (quiet hours): try again at this time. */
  | { reschedule: Date; reason: string };

/** Turns an outbox row into a message in the recipient's language, at the moment it is sent. */
export type Renderer = (row: OutboxRow, env: RenderEnv) => Promise<RenderResult>;

/** Renderers by outbox kind; each feature contributes its own. */
export type RendererRegistry = Record<string, Renderer>;
