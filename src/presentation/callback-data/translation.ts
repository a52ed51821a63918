import { z } from 'zod';
import { createCallbackData, idField } from './codec';

/**
 * "Show original" (`o`) / "Show translation" (`t`) on a message that shows someone else's text:
 * `n` a post's notification, `d` a post opened from /browse (post id), `r` a relayed message (relay id).
 */
export const translationData = createCallbackData(
  'tr',
  ['show', 'view', 'id'],
  z.object({ show: z.enum(['o', 't']), view: z.enum(['n', 'd', 'r']), id: idField }),
);

/** Translation of the partner's messages in one conversation (contact id) switched off or on again. */
export const conversationTranslationData = createCallbackData('tc', ['action', 'id'], z.object({ action: z.enum(['off', 'on']), id: idField }));
