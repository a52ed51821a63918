import type { NoticeRow } from '../db/schema';
import { type ProgressEnv, showProgress } from './notice-progress';

/**
 * The delivery side as the bot's handlers see it (bot/context.ts `DeliveryPort`): the composition root
 * builds it and puts it into the bot's dependencies, so that bot/ never imports delivery/.
 */
export function createDeliveryPort(env: ProgressEnv | (() => ProgressEnv), wake: () => void): { wake(): void; showNoticeProgress(notice: NoticeRow, final: boolean): Promise<void> } {
  return {
    wake,
    showNoticeProgress: (notice, final) => showProgress(typeof env === 'function' ? env() : env, notice, final),
  };
}
