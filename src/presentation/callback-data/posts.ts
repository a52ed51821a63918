import { z } from 'zod';
import { createCallbackData, idField } from './codec';

/** Buttons on posts: view, photo, and the author's edit / renew / fulfilled / no longer needed / keep. */
export const postData = createCallbackData(
  'p',
  ['action', 'postId'],
  z.object({ action: z.enum(['view', 'photo', 'edit', 'renew', 'done', 'close']), postId: idField }),
);
