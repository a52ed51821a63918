import type { Update, UserFromGetMe } from 'grammy/types';

/** One sendMessage as the stand-in saw it. Times are wall-clock milliseconds with fractions. */
export interface ReceivedSend {
  chatId: number;
  /** When the request arrived (before the simulated latency). */
  receivedAt: number;
  /** The stand-in's own call-log timestamp of the same request (Date.now(), whole milliseconds). */
  loggedAt: number;
  /** When it was answered; the rate limit is applied at this moment, after the latency. */
  answeredAt: number;
  /** 200, or the error code it answered (429 = over the limit). */
  status: number;
}

/** `push`: updates for getUpdates (polling bots), in this order. */
export type StandInRequest = { type: 'report' } | { type: 'close' } | { type: 'push'; updates: Update[] };

export type StandInReply =
  | { type: 'ready'; url: string; botInfo: UserFromGetMe }
  | {
      type: 'report';
      sends: ReceivedSend[];
      /** Edits of messages (editMessageText, editMessageCaption), recorded the same way. */
      edits: ReceivedSend[];
      /** Sending calls the stand-in answered with 429. */
      rateLimited: number;
      callsByMethod: Record<string, number>;
      /** Wall-clock ms of the latest call other than getUpdates (0: none yet). */
      lastCallAt: number;
      /** Pushed updates not yet confirmed by a getUpdates offset. */
      pendingUpdates: number;
      rssMb: number;
    };

export type StandInReport = Omit<Extract<StandInReply, { type: 'report' }>, 'type'>;
