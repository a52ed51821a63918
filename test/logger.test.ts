import { posts } from '../src/db/schema';
import { describeError } from '../src/logger';
import { createTestDb } from './helpers/db';

describe('describeError', () => {
  it('keeps the database error and its code but never the query parameters (user texts)', async () => {
    const db = await createTestDb();
    try {
      const secret = 'Meine Telefonnummer ist +49 170 1234567, bitte anrufen';
      const now = new Date();
      const failure = await db.db
        .insert(posts)
        .values({ authorId: 424242, kind: 'need', category: 'housing', district: 'mitte', text: secret, language: 'de', status: 'open', createdAt: now, updatedAt: now, expiresAt: now })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(failure).not.toBeNull();
      expect(String((failure as Error).message)).toContain('1234567'); // drizzle's own message has it …
      const summary = describeError(failure, { stack: true });
      expect(JSON.stringify(summary)).not.toContain('1234567'); // … the log line does not
      expect(summary.code).toBe('23503');
      expect(summary.message).toContain('foreign key');
    } finally {
      await db.close();
    }
  });

  it('cuts long quoted values out of other messages', () => {
    const summary = describeError(new Error('invalid input syntax for type integer: "Hallo, ich brauche dringend eine Wohnung"'));
    expect(summary.message).not.toContain('Wohnung');
  });
});
