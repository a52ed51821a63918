import { z } from 'zod';
import { createCallbackData, idField } from './codec';

/** A helper's side of verification: `ask` shows what it means, `send` sends the request to the coordinators. */
export const verifyRequestData = createCallbackData('vr', ['action'], z.object({ action: z.enum(['ask', 'send']) }));

/**
 * The coordinators' side (`/verified` and the request messages): `ok` / `no` decide a request (user id) from
 * its message, `lok` / `lno` from the list,
 * `wd` asks whether to withdraw a helper's verification and `wdy` does it (user id), `wo` / `woy` the same
 * for an organisation (organisation id), `list` shows /verified again.
 */
export const verifyReviewData = createCallbackData(
  'vf',
  ['action', 'id'],
  z.discriminatedUnion('action', [
    z.object({ action: z.enum(['ok', 'no', 'lok', 'lno', 'wd', 'wdy', 'wo', 'woy']), id: idField }),
    z.object({ action: z.literal('list'), id: z.literal('-') }),
  ]),
);

/** The "report a problem" button under the follow-up of a protected category (contact id). */
export const safetyReportData = createCallbackData('fs', ['id'], z.object({ id: idField }));
