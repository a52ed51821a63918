import { z } from 'zod';
import { createCallbackData, idField } from './codec';

/** Buttons on sent notices: stop a broadcast, open one notice from /notices. */
export const noticeData = createCallbackData('n', ['action', 'id'], z.object({ action: z.enum(['stop', 'view']), id: idField }));
