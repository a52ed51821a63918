import { z } from 'zod';
import { FOLLOW_UP_ANSWERS } from '../../domain/follow-up';
import { createCallbackData, idField } from './codec';

/** The seeker's answer to "Did you get the help you needed?" about one conversation. */
export const followUpData = createCallbackData('fu', ['answer', 'id'], z.object({ answer: z.enum(FOLLOW_UP_ANSWERS), id: idField }));
