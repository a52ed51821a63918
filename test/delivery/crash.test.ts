import { eq, inArray, sql } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { notices, outbox, users } from '../../src/db/schema';
import { noticeProgress, sendNotice } from '../../src/domain/notices';
import { actorOf } from '../../src/domain/permissions';
import { createTestDb, type TestDatabase, TEST_DATABASE_URL } from '../helpers/db';
import { FakeTelegram } from '../helpers/fake-telegram';
import { TEST_TOKEN } from '../helpers/harness';
import { spawnBot } from '../helpers/spawn-bot';
import { freePort, waitFor } from '../helpers/wait';

/**
 * Resumable broadcasts: a delivery process (`src/main.ts` in worker mode, as in production) is killed
 * with SIGKILL in the middle of a notice and started again. Nobody may be skipped; duplicates may only
 * occur among the messages that were in flight at the kill, and the report must count exactly those.
 * Runs on PostgreSQL (the test and the worker share the database).
 */
const RECIPIENTS = 300;
const TEXT = 'Die Ausländerbehörde ist am Freitag geschlossen.';

function startWorker(env: Record<string, string>) {
  return spawnBot(env);
}

const describeOnPostgres = TEST_DATABASE_URL ? describe : describe.skip;

describeOnPostgres('a delivery process killed mid-broadcast', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.close();
  });

  it('resumes after SIGKILL: nobody skipped, duplicates only among messages in flight, counted in the report', async () => {
    const telegram = new FakeTelegram({ latencyMs: 40 });
    const api = await telegram.listen();
    const clock = new ManualClock(new Date());
    const now = clock.now();
    const [author] = await db.db
      .insert(users)
      .values({ telegramId: 900_000, firstName: 'Amt', locale: 'de', role: 'staff', organisation: 'Ausländerbehörde', createdAt: now, lastSeenAt: now })
      .returning();
    await db.db.execute(sql`insert into ${users} (telegram_id, first_name, locale, role, district, created_at, last_seen_at)
      select 7000000 + g, 'P' || g, (array['uk','de','ru'])[1 + g % 3], 'seeker', 'mitte', ${now}, ${now} from generate_series(1, ${RECIPIENTS}) g`);
    const progressMessage = (await telegram.call('sendMessage', { chat_id: 900_000, text: 'preview' })) as { result: { message_id: number } };
    const notice = await sendNotice(db.db, clock, actorOf(author!), { audience: 'everyone', districts: [], languages: [], texts: { de: TEXT } }, { chatId: 900_000, messageId: progressMessage.result.message_id });
    expect(notice.recipientCount).toBe(RECIPIENTS);

    const env = {
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: api.url,
      DATABASE_URL: db.url!,
      BOT_MODE: 'worker',
      BROADCAST_RATE: '30',
      PORT: String(await freePort()),
    };
    const delivered = () => telegram.callsOf('sendMessage').filter((c) => String(c.payload.text).includes('Ausländerbehörde ist am Freitag')).length;

    const first = startWorker(env);
    try {
      await waitFor('a third of the broadcast', () => delivered() >= RECIPIENTS / 3, 60_000, first.output);
      first.child.kill('SIGKILL');
      await first.exited;
    } finally {
      first.child.kill('SIGKILL');
    }
    // What the database knew at the moment of the kill.
    const atKill = await db.db.select({ id: outbox.id, chatId: outbox.chatId, status: outbox.status }).from(outbox).where(eq(outbox.noticeId, notice.id));
    const inFlight = atKill.filter((r) => r.status === 'sending');
    const confirmed = new Set(atKill.filter((r) => r.status === 'sent').map((r) => r.chatId));
    expect(confirmed.size).toBeGreaterThan(0);
    expect(atKill.filter((r) => r.status === 'pending').length).toBeGreaterThan(0);

    const second = startWorker({ ...env, PORT: String(await freePort()) });
    try {
      await waitFor(
        'the broadcast to finish',
        async () => (await noticeProgress(db.db, notice.id)).remaining === 0,
        90_000,
        second.output,
      );
      await waitFor('the final report', async () => (await db.db.select().from(notices).where(eq(notices.id, notice.id)))[0]?.status === 'done', 10_000, second.output);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      second.child.kill('SIGKILL');
      await api.close();
    }

    // Nobody skipped.
    const received = new Map<number, number>();
    for (const call of telegram.callsOf('sendMessage')) {
      if (!String(call.payload.text).includes('Ausländerbehörde ist am Freitag')) continue;
      const chat = Number(call.payload.chat_id);
      received.set(chat, (received.get(chat) ?? 0) + 1);
    }
    const recipients = await db.db.select({ telegramId: users.telegramId }).from(users).where(inArray(users.role, ['seeker']));
    for (const r of recipients) expect(received.get(r.telegramId) ?? 0).toBeGreaterThanOrEqual(1);

    // Duplicates only where the message was in flight at the kill; never for a confirmed one.
    const duplicated = [...received].filter(([, n]) => n > 1).map(([chat]) => chat);
    const inFlightChats = new Set(inFlight.map((r) => r.chatId));
    for (const chat of duplicated) {
      expect(inFlightChats.has(chat)).toBe(true);
      expect(confirmed.has(chat)).toBe(false);
    }
    // The report counts exactly the messages that were in flight (possible duplicates).
    const progress = await noticeProgress(db.db, notice.id);
    expect(progress).toMatchObject({ delivered: RECIPIENTS, remaining: 0, possibleDuplicates: inFlight.length });
    expect(duplicated.length).toBeLessThanOrEqual(inFlight.length);
    // The sender's report says so too.
    const report = telegram.messages(900_000).at(-1)!;
    if (inFlight.length > 0) expect(report.text).toContain(`${inFlight.length} Nachricht`);
    expect(report.text).toContain(`Zugestellt: ${RECIPIENTS} von ${RECIPIENTS}`);
    console.info(`crash test: ${inFlight.length} in flight at the kill, ${duplicated.length} actually duplicated, ${confirmed.size} confirmed before the kill`);
  }, 180_000);
});
