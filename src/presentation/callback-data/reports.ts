import { z } from 'zod';
import { REPORT_REASONS } from '../../db/schema';
import { createCallbackData, idField } from './codec';

/** "Report" on a post, a relayed message or a notice; '-' asks for the reason first. */
export const reportData = createCallbackData(
  'r',
  ['target', 'id', 'reason'],
  z.object({ target: z.enum(['post', 'relay', 'notice']), id: idField, reason: z.enum([...REPORT_REASONS, '-', 'x']) }),
);
