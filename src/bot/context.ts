import type { Context as BaseContext, SessionFlavor } from 'grammy';
import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import type { Config, Locale } from '../config';
import type { Database } from '../db';
import type { NoticeRow, UserRow } from '../db/schema';
import type { TFunction, Translator } from '../i18n';
import type { Logger } from '../logger';

/** Everything a handler may need, injected once per update. */
export interface Deps {
  config: Config;
  db: Database;
  logger: Logger;
  clock: Clock;
  city: CityDirectory;
  i18n: Translator;
  /** The delivery side, as far as handlers need it; wired in by main (bot/ never imports delivery/). */
  delivery: DeliveryPort;
  /** The machine translation engine (TRANSLATE_URL), for staff filling a notice's missing languages; absent when off. */
  translator?: MachineTranslator;
}

/** What handlers ask of the translation engine: one text, now (bounded by TRANSLATE_TIMEOUT). */
export interface MachineTranslator {
  translate(text: string, source: Locale, target: Locale): Promise<string>;
  /** False while the engine is known to be down (its circuit is open): do not even ask. */
  available(): boolean;
}

/** What handlers ask of the delivery side. */
export interface DeliveryPort {
  /** Nudges the delivery worker after a handler queued messages (it also polls). */
  wake(): void;
  /** Edits a notice's progress message now; `final` also sends the sender a short report. */
  showNoticeProgress(notice: NoticeRow, final: boolean): Promise<void>;
}

/**
 * A dialog that spans several updates. It lives in the session (PostgreSQL/PGlite), so a restart or a
 * second process continues it. `messageId` is the message whose inline keyboard drives the dialog:
 * a button pressed on any other message is stale.
 */
export interface DialogState {
  name: string;
  step: string;
  messageId?: number;
  data: Record<string, unknown>;
}

/** Session contents; validated again by each feature before use. */
export interface SessionData {
  dialog?: DialogState;
}

interface HilfenetzFlavor {
  deps: Deps;
  log: Logger;
  /** The sender's stored profile, created on first contact. Absent for updates without a sender. */
  user?: UserRow;
  locale: Locale;
  t: TFunction;
  /** Messages whose inline keyboard goes once the update is done (src/bot/closing-calls.ts); set while it runs. */
  keyboardsToRemove?: Set<number>;
}

/** The context every handler receives. */
export type Context = BaseContext & SessionFlavor<SessionData> & HilfenetzFlavor;

/** The sender's profile, for handlers that run only after the user middleware. */
export function requireUser(ctx: Context): UserRow {
  if (!ctx.user) throw new Error('handler needs a user but the update has no sender');
  return ctx.user;
}
