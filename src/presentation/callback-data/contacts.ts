import { z } from 'zod';
import { createCallbackData, idField } from './codec';

/**
 * Safe contact: `req` (post id: "I can help" / "I'm interested"), `acc` / `dec` (contact id: the
 * author's answer), `end` / `block` (contact id: end the conversation, optionally blocking), `to`
 * (contact id: which conversation a message goes to), `ask` (contact id: show the end dialog).
 */
export const contactData = createCallbackData(
  'c',
  ['action', 'id'],
  z.object({ action: z.enum(['req', 'acc', 'dec', 'end', 'block', 'to', 'ask']), id: idField }),
);
