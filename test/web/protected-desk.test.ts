import { eq, sql } from 'drizzle-orm';
import { notifications, posts, users, verifications } from '../../src/db/schema';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { csrfOf, loginPathFromBot, startWebServer, WebClient } from '../helpers/web';

/** The web desk's "to everyone in the category" keeps to the protected categories like the bot's (src/domain/verification.ts). */
const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'http://desk.example.org', WAVE_SIZE: '1' } });
let h: Harness;
let web: Awaited<ReturnType<typeof startWebServer>>;
beforeEach(async () => {
  h = harness.current;
  web = await startWebServer(h);
});
afterEach(async () => {
  await web.close();
});

async function idOf(persona: Persona): Promise<number> {
  const [row] = await h.db.db.select({ id: users.id }).from(users).where(eq(users.telegramId, persona.id));
  return row!.id;
}

it('"to everyone" from the web desk tells only verified helpers of a protected need', async () => {
  const katrin = h.user(COORDINATOR);
  await katrin.send('/start');
  const helpers = [PEOPLE.jonas, PEOPLE.maria, PEOPLE.petro, PEOPLE.irina];
  for (const p of helpers) {
    await onboard(h.user(p), 'helper', h.deps.city.districtName('mitte', (p.language_code ?? 'de') as 'uk' | 'de' | 'ru'));
    await replaceSubscriptions(h.db.db, await idOf(p), 'need', { categories: ['family'], districts: ['*'] });
  }
  // Jonas and Irina are verified; Maria and Petro are not.
  for (const p of [PEOPLE.jonas, PEOPLE.irina]) await h.db.db.insert(verifications).values({ userId: await idOf(p), status: 'verified', decidedAt: h.clock.now() });
  const olena = h.user(PEOPLE.olena);
  await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
  await post(olena, 'need', h.deps.city.categoryLabel('family', 'uk'), 'Гамборн (Hamborn)', 'Потрібен догляд за дитиною двічі на тиждень.');
  const [need] = await h.db.db.select().from(posts).orderBy(sql`${posts.id} desc`).limit(1);
  await h.db.db.update(posts).set({ deskAt: h.clock.now() }).where(eq(posts.id, need!.id));
  const before = await h.db.db.select().from(notifications).where(eq(notifications.postId, need!.id));
  expect(before).toHaveLength(1);

  const client = new WebClient(web.base);
  expect((await client.login(await loginPathFromBot(katrin))).status).toBe(303);
  const csrf = csrfOf(await (await client.get('/web/desk')).text());
  const res = await client.post(`/web/desk/${need!.id}`, { _csrf: csrf, action: 'all' });
  expect(res.status).toBe(303);
  const told = (await h.db.db.select().from(notifications).where(eq(notifications.postId, need!.id))).map((n) => n.userId).sort();
  expect(told).toEqual([await idOf(PEOPLE.jonas), await idOf(PEOPLE.irina)].sort());
});
