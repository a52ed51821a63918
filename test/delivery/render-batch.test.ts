import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Pool } from 'pg';
import type { Database } from '../../src/db';
import * as schema from '../../src/db/schema';
import { eq } from 'drizzle-orm';
import { blocks, outbox, posts, PRIORITY, users, verifications } from '../../src/db/schema';
import { createRenderers } from '../../src/delivery';
import { RenderBatch } from '../../src/delivery/render-batch';
import { enqueue, OUTBOX_KINDS } from '../../src/domain/outbox';
import { type Harness, useHarness } from '../helpers/harness';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

/** The test database seen through a drizzle instance that records every statement it sends. */
function recordingDb(): { db: Database; statements: string[] } {
  const statements: string[] = [];
  const logger = { logQuery: (query: string) => void statements.push(query) };
  const client = (h.db.db as unknown as { $client: unknown }).$client;
  const db = h.db.driver === 'pglite' ? drizzlePglite(client as PGlite, { schema, logger }) : drizzleNodePg(client as Pool, { schema, logger });
  return { db, statements };
}

const reading = (table: string) => (statements: string[]) => statements.filter((s) => new RegExp(`^select .* from "${table}"`, 'i').test(s)).length;
const postQueries = reading('posts');
const blockQueries = reading('blocks');

/** An open need by a new author, and `n` people to notify about it (health: not a protected category). */
async function postWithRecipients(n: number) {
  const now = h.clock.now();
  const person = (i: number) => ({ telegramId: 7_000_000 + i, firstName: `P${i}`, locale: 'de', role: 'helper' as const, createdAt: now, lastSeenAt: now });
  const [author, ...recipients] = await h.db.db.insert(users).values(Array.from({ length: n + 1 }, (_, i) => person(i))).returning();
  const expiresAt = new Date(now.getTime() + 14 * 86_400_000);
  const [post] = await h.db.db
    .insert(posts)
    .values({ authorId: author!.id, kind: 'need', category: 'health', district: 'hamborn', text: 'Suche eine Kinderärztin in Hamborn.', language: 'de', status: 'open', createdAt: now, publishedAt: now, updatedAt: now, expiresAt })
    .returning();
  return { author: author!, recipients, post: post! };
}

async function notify(recipients: { id: number; telegramId: number }[], postId: number): Promise<void> {
  await enqueue(
    h.db.db,
    h.clock,
    recipients.map((r) => ({ userId: r.id, chatId: r.telegramId, kind: OUTBOX_KINDS.postNotify, priority: PRIORITY.notification, postId })),
  );
}

describe('render batch', () => {
  it('loads the posts and block pairs of a batch in one query each', async () => {
    const { author, recipients, post } = await postWithRecipients(30);
    await h.db.db.insert(blocks).values({ blockerId: recipients[4]!.id, blockedId: author.id, createdAt: h.clock.now() });
    await notify(recipients, post.id);
    const rows = await h.db.db.select().from(outbox).orderBy(outbox.id);

    const { db, statements } = recordingDb();
    const batch = await RenderBatch.load(db, rows);
    expect(statements).toHaveLength(2);
    for (const row of rows) {
      expect((await batch.post(row.postId!))?.id).toBe(post.id);
      expect(await batch.isBlocked(author.id, row.userId)).toBe(row.userId === recipients[4]!.id);
    }
    expect(statements).toHaveLength(2);
    // What the batch did not load is asked for once, then kept.
    expect(await batch.isBlocked(recipients[1]!.id, recipients[2]!.id)).toBe(false);
    expect(await batch.isBlocked(recipients[2]!.id, recipients[1]!.id)).toBe(false);
    expect(await batch.post(post.id + 1)).toBeUndefined();
    expect(await batch.post(post.id + 1)).toBeUndefined();
    expect(statements).toHaveLength(4);
  });

  it('renders N notifications of one post with one post query and one block query', async () => {
    const { author, recipients, post } = await postWithRecipients(40);
    await h.db.db.insert(blocks).values({ blockerId: author.id, blockedId: recipients[7]!.id, createdAt: h.clock.now() });
    await notify(recipients, post.id);

    const { db, statements } = recordingDb();
    const renderEnv = { db, clock: h.clock, config: h.config, city: h.deps.city, i18n: h.deps.i18n, botUsername: h.telegram.botInfo.username };
    // One claim takes all 40 rows (rate 1000/s × 0.25 s claim window = 250).
    const stats = await h.deliveryWorker({ db, renderEnv, renderers: createRenderers() }).drain();
    expect(stats).toMatchObject({ sent: 39, skipped: 1, failed: 0 });
    expect(postQueries(statements)).toBe(1);
    expect(blockQueries(statements)).toBe(1);
    expect(h.telegram.callsOf('sendMessage')).toHaveLength(39);
  });

  it('sends a protected need only to recipients still verified, asking about all of them in one query', async () => {
    const { recipients, post } = await postWithRecipients(12);
    await h.db.db.update(posts).set({ category: 'housing' });
    // Verified one by one, or staff; the rest were verified when routed and lost it since.
    await h.db.db.insert(verifications).values(recipients.slice(0, 5).map((r) => ({ userId: r.id, status: 'verified' as const, decidedAt: h.clock.now() })));
    await h.db.db.update(users).set({ role: 'staff' }).where(eq(users.id, recipients[11]!.id));
    await notify(recipients, post.id);

    const { db, statements } = recordingDb();
    const renderEnv = { db, clock: h.clock, config: h.config, city: h.deps.city, i18n: h.deps.i18n, botUsername: h.telegram.botInfo.username };
    const stats = await h.deliveryWorker({ db, renderEnv, renderers: createRenderers() }).drain();
    expect(stats).toMatchObject({ sent: 6, skipped: 6, failed: 0 });
    expect(statements.filter((q) => q.includes('"verifications"'))).toHaveLength(1);
    expect(new Set(h.telegram.callsOf('sendMessage').map((c) => Number(c.payload.chat_id)))).toEqual(
      new Set([...recipients.slice(0, 5), recipients[11]!].map((r) => r.telegramId)),
    );
  });
});
