import { z } from 'zod';
import { DESK_CLOSE_REASONS } from '../../domain/desk';
import { createCallbackData, idField } from './codec';

/** Buttons of a desk item: show, take, refer (keep open / close), send to all, close (asks for a reason), a reason, next. */
export const deskData = createCallbackData(
  'dk',
  ['action', 'id', 'reason'],
  z.object({
    action: z.enum(['show', 'take', 'refer', 'referclose', 'all', 'close', 'reason', 'next']),
    id: idField,
    reason: z.enum([...DESK_CLOSE_REASONS, '-']),
  }),
);
