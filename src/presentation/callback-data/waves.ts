import { z } from 'zod';
import { createCallbackData, idField } from './codec';

/** The helper's answers under a need's notification (post id): `no` "Not this time", `pause` "Pause for a week". */
export const waveData = createCallbackData('w', ['action', 'id'], z.object({ action: z.enum(['no', 'pause']), id: idField }));
