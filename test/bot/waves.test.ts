import { and, eq, sql } from 'drizzle-orm';
import { createDatabase } from '../../src/db';
import { notifications, outbox, posts, users } from '../../src/db/schema';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { sendDueWaves } from '../../src/domain/waves';
import { TEST_DATABASE_URL } from '../helpers/db';
import { clickDistrict, onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness, waveContext } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { verifyHelpers } from '../helpers/verification';

const WAVE_MINUTES = 30;
const harness = useHarness({ env: { WAVE_SIZE: '3', WAVE_INTERVAL: `${WAVE_MINUTES}m`, MAX_OPEN_POSTS: '20', MAX_POSTS_PER_DAY: '20' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

type Lang = 'uk' | 'de' | 'ru';
const LANGS: Lang[] = ['de', 'uk', 'ru'];
const STALE = 'Dieser Knopf ist nicht mehr aktuell. Bitte nutzen Sie die neueste Nachricht oder /start.';
const BUTTONS = {
  de: { no: '🙅 Diesmal nicht', pause: '⏸ Eine Woche Pause', help: '🤝 Ich kann helfen', report: '⚠️ Melden' },
  uk: { no: '🙅 Цього разу ні', pause: '⏸ Пауза на тиждень', help: '🤝 Можу допомогти', report: '⚠️ Поскаржитися' },
  ru: { no: '🙅 В этот раз нет', pause: '⏸ Пауза на неделю', help: '🤝 Могу помочь', report: '⚠️ Пожаловаться' },
} as const;

interface Helper {
  user: TestUser;
  id: number;
  lang: Lang;
}

/** A helper who joined through /start and subscribed to needs in these categories and districts. */
async function helper(n: number, district: string, options: { lang?: Lang; categories?: string[]; districts?: string[] } = {}): Promise<Helper> {
  const lang = options.lang ?? LANGS[n % 3]!;
  const persona: Persona = { id: 700_000 + n, first_name: `Helfer${n}`, language_code: lang };
  const user = h.user(persona);
  await onboard(user, 'helper', h.deps.city.districtName(district, lang));
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, persona.id));
  await replaceSubscriptions(h.db.db, row!.id, 'need', { categories: options.categories ?? ['housing'], districts: options.districts ?? [district] });
  // Housing is a protected category: only verified helpers are told of its needs.
  await verifyHelpers(h, row!.id);
  return { user, id: row!.id, lang };
}

/** A seeker who publishes a housing need in a district through the dialog; returns the post id. */
async function publishNeed(seeker: TestUser, district: string, text: string, category = 'housing'): Promise<number> {
  const lang = (seeker.persona.language_code ?? 'de') as Lang;
  await post(seeker, 'need', h.deps.city.categoryLabel(category, lang), h.deps.city.districtName(district, lang), text);
  const [latest] = await h.db.db.select({ id: posts.id }).from(posts).orderBy(sql`${posts.id} desc`).limit(1);
  return latest!.id;
}

async function seeker(persona: Persona, district: string): Promise<TestUser> {
  const user = h.user(persona);
  await onboard(user, 'seeker', h.deps.city.districtName(district, (persona.language_code ?? 'de') as Lang));
  return user;
}

/** The notifications about one post in a helper's chat. */
function notificationsAbout(helper: Helper, postId: number) {
  return helper.user.messages.filter((m) => m.text.startsWith('🆕') && m.text.includes(`#${postId}`));
}

async function toldAbout(postId: number): Promise<number[]> {
  const rows = await h.db.db.select({ userId: notifications.userId }).from(notifications).where(eq(notifications.postId, postId));
  return rows.map((r) => r.userId).sort((a, b) => a - b);
}

/** Earlier notifications of a helper (their load), `hoursAgo` each. */
async function load(helperId: number, hoursAgo: number[], response: 'offered' | 'declined' | null = null): Promise<void> {
  for (const [i, hours] of hoursAgo.entries()) {
    await h.db.db.insert(notifications).values({ postId: 90_000 + helperId * 100 + i, userId: helperId, createdAt: new Date(h.clock.now().getTime() - hours * 3_600_000), response });
  }
}

async function postRow(postId: number) {
  const [row] = await h.db.db.select().from(posts).where(eq(posts.id, postId));
  return row!;
}

const ids = (list: Helper[]) => list.map((x) => x.id).sort((a, b) => a - b);

describe('waves instead of waking everyone', () => {
  it('tells a need to WAVE_SIZE helpers, fewest recent notifications first, and the next wave after WAVE_INTERVAL', async () => {
    const helpers = [];
    for (let n = 0; n < 5; n++) helpers.push(await helper(n, 'hamborn'));
    // Helpers 0 and 1 were told about two posts this week; 2, 3, 4 about none.
    await load(helpers[0]!.id, [5, 30]);
    await load(helpers[1]!.id, [2, 50]);
    const irina = await seeker(PEOPLE.irina, 'hamborn');
    const postId = await publishNeed(irina, 'hamborn', 'Ищу комнату на два месяца для себя.');
    expect(irina.last.text).toContain('Уведомлены 3 подходящих волонтёра');
    expect(irina.last.text).toContain('Если за 30 мин никто не откликнется, мы уведомим других волонтёров.');
    expect(await toldAbout(postId)).toEqual(ids(helpers.slice(2)));

    await h.deliver();
    for (const x of helpers.slice(2)) {
      const [card] = notificationsAbout(x, postId);
      const b = BUTTONS[x.lang];
      expect(x.user.buttons(card)).toEqual([b.help, b.no, b.pause, b.report]);
    }
    expect(notificationsAbout(helpers[0]!, postId)).toHaveLength(0);

    // Not yet due: nothing.
    h.clock.advance(WAVE_MINUTES * 60_000 - 1_000);
    expect(await h.sendDueWaves()).toBe(0);
    // Due: the next wave, with one short status for the seeker, in Russian.
    h.clock.advance(1_000);
    expect(await h.sendDueWaves()).toBe(1);
    expect(await h.sendDueWaves()).toBe(0);
    await h.deliver();
    expect(await toldAbout(postId)).toEqual(ids(helpers));
    expect(notificationsAbout(helpers[0]!, postId)).toHaveLength(1);
    expect(irina.last.text).toBe('🔎 Продолжаем искать по вашему запросу 🏠 Жильё · Хамборн (Hamborn) (#1): уведомлены ещё 2 волонтёра.');
    expect(await postRow(postId)).toMatchObject({ wave: 2, deskAt: null, widenedAt: null });

    // Nobody left: the need goes to the desk and the seeker is told once.
    h.clock.advance(WAVE_MINUTES * 60_000);
    expect(await h.sendDueWaves()).toBe(1);
    h.clock.advance(WAVE_MINUTES * 60_000);
    expect(await h.sendDueWaves()).toBe(0);
    await h.deliver();
    expect(irina.messages.filter((m) => m.text.startsWith('⏳'))).toHaveLength(1);
    expect(irina.last.text).toContain('сейчас больше нет подходящих волонтёров. Кто-то из координаторов теперь лично посмотрит его.');
    const done = await postRow(postId);
    expect(done.deskAt?.getTime()).toBe(h.clock.now().getTime() - WAVE_MINUTES * 60_000);
    expect(done.nextWaveAt).toBeNull();
    // Everyone was told exactly once.
    for (const x of helpers) expect(notificationsAbout(x, postId)).toHaveLength(1);
  });

  it('wakes a helper at HELPER_WEEKLY_CAP only when nobody else is left, neighbours included', async () => {
    const fresh1 = await helper(1, 'mitte');
    const fresh2 = await helper(2, 'mitte');
    // 15 notifications this week (the default HELPER_WEEKLY_CAP), though every one answered.
    const capped = await helper(3, 'mitte');
    await load(capped.id, Array.from({ length: 15 }, (_, i) => 24 + i), 'offered');
    const neighbour = await helper(4, 'sued');
    const maria = await seeker(PEOPLE.maria, 'mitte');
    const postId = await publishNeed(maria, 'mitte', 'Wir suchen eine Wohnung für drei Personen.');
    expect(await toldAbout(postId)).toEqual(ids([fresh1, fresh2, neighbour]));
    expect(maria.last.text).toContain('3 passende Helfende wurden benachrichtigt');
    expect(maria.last.text).toContain('Da es in diesem Bezirk zu wenige Helfende gibt, haben wir auch die Nachbarbezirke gefragt.');
    expect((await postRow(postId)).widenedAt).not.toBeNull();

    h.clock.advance(WAVE_MINUTES * 60_000);
    await h.sendDueWaves();
    expect(await toldAbout(postId)).toEqual(ids([fresh1, fresh2, neighbour, capped]));
    await h.deliver();
    // The status says "still looking"; the widening was told with publishing already.
    expect(maria.last.text).toBe('🔎 Wir suchen weiter für Ihre Anfrage 🏠 Wohnen · Mitte (#1): 1 weitere helfende Person wurde benachrichtigt.');
  });

  it('hands the place of "Not this time" to the next helper at once, quietly', async () => {
    const helpers = [await helper(1, 'hamborn', { lang: 'de' }), await helper(2, 'hamborn', { lang: 'uk' }), await helper(3, 'hamborn', { lang: 'ru' }), await helper(4, 'hamborn', { lang: 'de' })];
    await load(helpers[3]!.id, [3]);
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    const postId = await publishNeed(olena, 'hamborn', 'Шукаю кімнату на два місяці для себе.');
    await h.deliver();
    const seekerMessages = olena.messages.length;
    expect(await toldAbout(postId)).toEqual(ids(helpers.slice(0, 3)));

    const [card] = notificationsAbout(helpers[1]!, postId);
    const declined = await helpers[1]!.user.click(BUTTONS.uk.no, card);
    expect(declined.answer).toEqual({ text: 'Дякуємо за відповідь — запитаємо когось іншого.', showAlert: false });
    // The two answer buttons are gone; helping and reporting stay.
    expect(helpers[1]!.user.buttons(declined.edited[0])).toEqual([BUTTONS.uk.help, BUTTONS.uk.report]);
    expect(await toldAbout(postId)).toEqual(ids(helpers));
    await h.deliver();
    expect(notificationsAbout(helpers[3]!, postId)).toHaveLength(1);
    const [row] = await h.db.db.select().from(notifications).where(and(eq(notifications.postId, postId), eq(notifications.userId, helpers[1]!.id)));
    expect(row!.response).toBe('declined');
    // Pressed again (an old copy of the button): acknowledged, nobody more is told.
    const again = await helpers[1]!.user.press(`w:no:${postId}`, card);
    expect(again.answer?.text).toBe('Уже враховано — дякуємо.');
    expect(await toldAbout(postId)).toEqual(ids(helpers));
    // The seeker heard nothing of it.
    await h.deliver();
    expect(olena.messages).toHaveLength(seekerMessages);
    // Nobody left to take the next place: recorded, no one told.
    const [last] = notificationsAbout(helpers[0]!, postId);
    expect((await helpers[0]!.user.click(BUTTONS.de.no, last)).answer?.text).toBe('Danke für Ihre Rückmeldung – wir fragen jemand anderen.');
    expect(await toldAbout(postId)).toEqual(ids(helpers));
  });

  it('pauses a helper for a week with "Pause for a week", and says how to resume', async () => {
    const jonas = await helper(1, 'hamborn', { lang: 'de' });
    const petro = await helper(2, 'hamborn', { lang: 'uk' });
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    const first = await publishNeed(olena, 'hamborn', 'Шукаю кімнату на два місяці для себе.');
    await h.deliver();
    const [card] = notificationsAbout(jonas, first);
    const paused = await jonas.user.click(BUTTONS.de.pause, card);
    expect(paused.answer?.text).toBe('Pausiert bis 09.03.2026');
    expect(jonas.user.buttons(paused.edited[0])).toEqual([BUTTONS.de.help, BUTTONS.de.report]);
    const confirmation = paused.sent[0]!;
    expect(confirmation.text).toBe('⏸ Eine Woche Pause. Bis 09.03.2026 bekommen Sie keine Benachrichtigungen. Früher weitermachen können Sie jederzeit unter /subscribe oder hier:');
    expect(jonas.user.buttons(confirmation)).toEqual(['▶️ Fortsetzen']);
    const [user] = await h.db.db.select().from(users).where(eq(users.id, jonas.id));
    expect(user!.pausedUntil?.toISOString()).toBe(new Date(h.clock.now().getTime() + 7 * 86_400_000).toISOString());
    expect(user!.notificationsPaused).toBe(false);

    // Six days later he still hears nothing; Petro does.
    h.clock.advanceDays(6);
    const second = await publishNeed(olena, 'hamborn', 'Потрібна допомога з переїздом у суботу.');
    await h.deliver();
    expect(notificationsAbout(jonas, second)).toHaveLength(0);
    expect(notificationsAbout(petro, second)).toHaveLength(1);
    await jonas.user.send('/subscribe');
    expect(jonas.user.last.text).toContain('⏸ Pausiert bis 09.03.2026 – danach kommen Benachrichtigungen wieder.');
    expect(jonas.user.buttons()).toContain('▶️ Fortsetzen');

    // After the week the pause ends by itself.
    h.clock.advanceDays(1);
    const third = await publishNeed(olena, 'hamborn', 'Шукаю пральну машину для сім\'ї, можна вживану.');
    await h.deliver();
    expect(notificationsAbout(jonas, third)).toHaveLength(1);

    // Pausing again and resuming early with the button of the confirmation.
    const again = await jonas.user.click(BUTTONS.de.pause, notificationsAbout(jonas, third)[0]);
    await jonas.user.click('▶️ Fortsetzen', again.sent[0]);
    expect(jonas.user.last.text).toContain('▶️ Aktiv');
    const [resumed] = await h.db.db.select().from(users).where(eq(users.id, jonas.id));
    expect(resumed!.pausedUntil).toBeNull();
  });

  it('widens to the neighbouring districts once the district and the whole city are exhausted', async () => {
    const local = await helper(1, 'walsum', { lang: 'uk' });
    const local2 = await helper(8, 'walsum', { lang: 'ru' });
    const wholeCity = await helper(2, 'mitte', { lang: 'de', districts: ['*'] });
    const hamborn1 = await helper(3, 'hamborn', { lang: 'ru' });
    const hamborn2 = await helper(4, 'hamborn', { lang: 'de' });
    const hamborn3 = await helper(5, 'hamborn', { lang: 'uk' });
    // Mitte is not next to Walsum: never asked.
    const farAway = await helper(6, 'mitte', { lang: 'de' });
    const otherTopic = await helper(7, 'walsum', { lang: 'de', categories: ['health'] });
    await load(hamborn3.id, [1, 2]);
    const olena = await seeker(PEOPLE.olena, 'walsum');
    const postId = await publishNeed(olena, 'walsum', 'Шукаю житло у Вальзумі для себе й доньки.');
    // Three (WAVE_SIZE) of Walsum and the whole city: no need to widen yet.
    expect(await toldAbout(postId)).toEqual(ids([local, local2, wholeCity]));
    expect(olena.last.text).not.toContain('сусідні райони');

    h.clock.advance(WAVE_MINUTES * 60_000);
    await h.sendDueWaves();
    await h.deliver();
    expect(await toldAbout(postId)).toEqual(ids([local, local2, wholeCity, hamborn1, hamborn2, hamborn3]));
    expect(olena.last.text).toBe('🔎 Ми розширили пошук для вашого запиту 🏠 Житло · Вальзум (Walsum) (#1) на сусідні райони: сповіщено ще 3 волонтерів.');
    expect((await postRow(postId)).widenedAt?.getTime()).toBe(h.clock.now().getTime());

    h.clock.advance(WAVE_MINUTES * 60_000);
    await h.sendDueWaves();
    await h.deliver();
    expect(olena.last.text).toBe('⏳ Для вашого запиту 🏠 Житло · Вальзум (Walsum) (#1) зараз більше немає відповідних волонтерів. Хтось із координаторів тепер особисто перегляне його.');
    expect(olena.messages.filter((m) => m.text.startsWith('🔎'))).toHaveLength(1);
    for (const x of [farAway, otherTopic]) expect(notificationsAbout(x, postId)).toHaveLength(0);
    for (const x of [local, local2, wholeCity, hamborn1, hamborn2, hamborn3]) expect(notificationsAbout(x, postId)).toHaveLength(1);
  });

  it('stops the waves with an offer of help, and goes on when the seeker declines it', async () => {
    const helpers = [];
    for (let n = 1; n <= 5; n++) helpers.push(await helper(n, 'hamborn', { lang: 'de' }));
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    const postId = await publishNeed(olena, 'hamborn', 'Шукаю кімнату на два місяці для себе.');
    await h.deliver();
    const told = await toldAbout(postId);
    const first = helpers.find((x) => told.includes(x.id))!;
    await first.user.click(BUTTONS.de.help, notificationsAbout(first, postId)[0]);
    expect((await postRow(postId)).nextWaveAt).toBeNull();
    const [record] = await h.db.db.select().from(notifications).where(and(eq(notifications.postId, postId), eq(notifications.userId, first.id)));
    expect(record!.response).toBe('offered');
    h.clock.advanceHours(5);
    expect(await h.sendDueWaves()).toBe(0);
    expect(await toldAbout(postId)).toHaveLength(3);

    // Olena declines: the search goes on with the next wave at once.
    await h.deliver();
    await olena.click('✖️ Відхилити');
    expect(await h.sendDueWaves()).toBe(1);
    expect(await toldAbout(postId)).toHaveLength(5);
    await h.deliver();
    expect(olena.last.text).toContain('🔎 Шукаємо далі для вашого запиту');
  });

  it('tells nobody twice across waves, edits and renewals, and edits start no storm of waves', async () => {
    const hamborn = [await helper(1, 'hamborn'), await helper(2, 'hamborn'), await helper(3, 'hamborn'), await helper(4, 'hamborn')];
    const mitte = [await helper(5, 'mitte'), await helper(6, 'mitte')];
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    const postId = await publishNeed(olena, 'hamborn', 'Шукаю кімнату на два місяці для себе.');
    expect(await toldAbout(postId)).toHaveLength(3);

    // A new text: nobody is told.
    await olena.send('/my');
    await olena.click('✏️ Редагувати');
    await olena.click('✏️ Змінити текст');
    await olena.send('Шукаю кімнату на три місяці для себе.');
    const edited = await olena.click('💾 Зберегти');
    expect(edited.edited[0]?.text).toContain('Сповіщено ще 0 людей');
    expect(await toldAbout(postId)).toHaveLength(3);

    // Renewing while a wave is planned: nothing goes out now, and the plan stays.
    const planned = (await postRow(postId)).nextWaveAt;
    await olena.send('/my');
    await olena.click('🔄 Подовжити');
    expect(await toldAbout(postId)).toHaveLength(3);
    expect((await postRow(postId)).nextWaveAt).toEqual(planned);

    // Moving it to Mitte: one wave for the new match (the Mitte helpers), counted as the next wave.
    await olena.send('/my');
    await olena.click('✏️ Редагувати');
    await olena.click('📍 Район');
    await clickDistrict(olena, 'Центр (Mitte)');
    const moved = await olena.click('💾 Зберегти');
    expect(moved.edited[0]?.text).toContain('Сповіщено ще 2 людини');
    expect(await toldAbout(postId)).toEqual(expect.arrayContaining(ids(mitte)));
    expect(await toldAbout(postId)).toHaveLength(5);
    expect((await postRow(postId)).wave).toBe(2);
    // Moving it back: the Hamborn helper not told yet is the only one left.
    await olena.send('/my');
    await olena.click('✏️ Редагувати');
    await olena.click('📍 Район');
    await clickDistrict(olena, 'Гамборн (Hamborn)');
    const back = await olena.click('💾 Зберегти');
    expect(back.edited[0]?.text).toContain('Сповіщено ще 1 людину');
    expect(await toldAbout(postId)).toEqual(ids([...hamborn, ...mitte]));

    // Expired and republished: a wave is long due, but nobody is left who was not told.
    h.clock.advanceDays(15);
    await h.sweep();
    expect((await postRow(postId)).status).toBe('expired');
    await olena.send('/my');
    await olena.click('🔄 Опублікувати знову');
    await h.sendDueWaves();
    await h.deliver();
    for (const x of [...hamborn, ...mitte]) expect(notificationsAbout(x, postId)).toHaveLength(1);
    // A helper who subscribed since hears about it with the next wave, once.
    const late = await helper(7, 'hamborn');
    h.clock.advance(WAVE_MINUTES * 60_000);
    await olena.send('/my');
    await olena.click('🔄 Подовжити');
    await h.sendDueWaves();
    await h.deliver();
    expect(notificationsAbout(late, postId)).toHaveLength(1);
    await olena.send('/my');
    await olena.click('🔄 Подовжити');
    h.clock.advance(WAVE_MINUTES * 60_000);
    await h.sendDueWaves();
    await h.deliver();
    expect(notificationsAbout(late, postId)).toHaveLength(1);
  });

  it('puts a need nobody can be told about on the desk at once, and says so', async () => {
    const maria = await seeker(PEOPLE.maria, 'rheinhausen');
    const postId = await publishNeed(maria, 'rheinhausen', 'Wir suchen Hilfe beim Umzug am Samstag.', 'transport');
    expect(maria.last.text).toContain('Gerade hat noch niemand dieses Thema abonniert');
    expect(maria.last.text).toContain('Jemand aus der Koordination schaut sich Ihre Anfrage persönlich an.');
    const row = await postRow(postId);
    expect(row.deskAt?.getTime()).toBe(h.clock.now().getTime());
    expect(row.nextWaveAt).toBeNull();
    h.clock.advanceHours(3);
    expect(await h.sendDueWaves()).toBe(0);
    await h.deliver();
    expect(maria.messages.filter((m) => m.text.startsWith('⏳'))).toHaveLength(0);
  });

  it('counts the interval from when the wave can be seen, not from the night', async () => {
    const helpers = [await helper(1, 'hamborn'), await helper(2, 'hamborn'), await helper(3, 'hamborn'), await helper(4, 'hamborn')];
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    h.clock.set('2026-03-02T23:00:00+01:00');
    const postId = await publishNeed(olena, 'hamborn', 'Шукаю нічліг на одну ніч, терміново.');
    // Quiet hours (22:00–07:00): the first wave waits until 07:00, the next is due half an hour later.
    expect((await postRow(postId)).nextWaveAt?.toISOString()).toBe('2026-03-03T06:30:00.000Z');
    h.clock.set('2026-03-03T02:00:00+01:00');
    expect(await h.sendDueWaves()).toBe(0);
    h.clock.set('2026-03-03T07:30:00+01:00');
    expect(await h.sendDueWaves()).toBe(1);
    expect(await toldAbout(postId)).toEqual(ids(helpers));
  });

  it('never sends a wave twice when two processes run the job at the same moment', async () => {
    const helpers = [];
    for (let n = 1; n <= 8; n++) helpers.push(await helper(n, 'hamborn', { lang: LANGS[n % 3] }));
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    const needs = [
      await publishNeed(olena, 'hamborn', 'Шукаю кімнату на два місяці для себе.'),
      await publishNeed(olena, 'hamborn', 'Потрібна допомога з переїздом у суботу.'),
      await publishNeed(olena, 'hamborn', 'Шукаю квартиру для сім\'ї з чотирьох осіб.'),
    ];
    h.clock.advance(WAVE_MINUTES * 60_000);
    // A second process: its own connection pool on the same PostgreSQL database (PGlite is one process).
    const second = TEST_DATABASE_URL ? await createDatabase({ DATABASE_URL: h.db.url!, poolSize: 3 }) : undefined;
    try {
      const ctx = waveContext(h);
      const runs = await Promise.all([
        sendDueWaves(h.db.db, ctx),
        sendDueWaves(second?.db ?? h.db.db, ctx),
        sendDueWaves(h.db.db, ctx),
        sendDueWaves(second?.db ?? h.db.db, ctx),
      ]);
      expect(runs.reduce((a, b) => a + b, 0)).toBe(needs.length);
    } finally {
      await second?.close();
    }
    for (const id of needs) {
      expect(await toldAbout(id)).toHaveLength(6);
      expect((await postRow(id)).wave).toBe(2);
    }
    const statuses = await h.db.db.select().from(outbox).where(eq(outbox.kind, 'wave.progress'));
    expect(statuses.map((s) => s.postId).sort()).toEqual(needs);
  });

  it('answers forged and old buttons with the stale hint', async () => {
    const jonas = await helper(1, 'hamborn', { lang: 'de' });
    const stranger = await helper(2, 'mitte', { lang: 'de' });
    const olena = await seeker(PEOPLE.olena, 'hamborn');
    const postId = await publishNeed(olena, 'hamborn', 'Шукаю кімнату на два місяці для себе.');
    await h.deliver();
    for (const data of ['w:no:999', 'w:pause:999', 'w:no:abc', 'w:stop:1', 'w:no', `w:no:${postId}:x`]) {
      const r = await jonas.user.press(data, jonas.user.last);
      expect([data, r.answer]).toEqual([data, { text: STALE, showAlert: true }]);
    }
    // Someone who was never told about the need.
    for (const action of ['no', 'pause']) {
      expect((await stranger.user.press(`w:${action}:${postId}`, stranger.user.last)).answer).toEqual({ text: STALE, showAlert: true });
    }
    const [strangerRow] = await h.db.db.select().from(users).where(eq(users.id, stranger.id));
    expect(strangerRow!.pausedUntil).toBeNull();
    // The need was closed meanwhile: "Not this time" is out of date, and the answer buttons go away.
    const [card] = notificationsAbout(jonas, postId);
    await olena.send('/my');
    await olena.click('🗑 Більше не потрібно');
    const old = await jonas.user.click(BUTTONS.de.no, card);
    expect(old.answer).toEqual({ text: STALE, showAlert: true });
    expect(jonas.user.buttons(old.edited[0])).toEqual([BUTTONS.de.help, BUTTONS.de.report]);
  });
});

