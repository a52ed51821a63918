import { eq } from 'drizzle-orm';
import { outbox } from '../../src/db/schema';
import { localDay, nextMorning, quietUntil, zonedTime } from '../../src/domain/time';
import { onboard, post, subscribe } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import { verifyPeople } from '../helpers/verification';

const harness = useHarness({ env: { MAX_OPEN_POSTS: '20', MAX_POSTS_PER_DAY: '20' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const TEXTS = [
  'Шукаю кімнату на два місяці для себе.',
  'Потрібна допомога з переїздом у суботу.',
  'Шукаю квартиру для сім\'ї з чотирьох осіб.',
  'Потрібен тимчасовий прихисток на тиждень.',
  'Шукаю житло поблизу школи для сина.',
  'Потрібна кімната для студентки, з травня.',
  'Шукаю квартиру з ліфтом для бабусі.',
];

function notificationsOf(user: TestUser): number {
  return user.messages.filter((m) => m.text.includes('Neue Anfrage')).length;
}

async function helperWithHousing(user: TestUser): Promise<void> {
  await onboard(user, 'helper', 'Hamborn');
  await subscribe(user, ['🏠 Wohnen'], ['🏙 Ganz Duisburg']);
  // Housing is a protected category: only verified helpers are told of its needs.
  await verifyPeople(harness.current, user);
}

describe('notification controls', () => {
  it('caps notifications per day and summarises the rest the next morning', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await helperWithHousing(jonas);
    await jonas.send('/subscribe');
    await jonas.click('🔢 Tageslimit');
    await jonas.click('5');
    expect(jonas.last.text).toContain('Höchstens 5 Benachrichtigungen pro Tag');

    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    for (const text of TEXTS) await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', text);
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(5);
    expect(await h.db.db.select().from(outbox).where(eq(outbox.status, 'deferred'))).toHaveLength(2);

    // Nothing more today; the summary comes at 07:00 (the end of the default quiet hours).
    await h.deliver();
    expect(jonas.find('Gestern gab es')).toBeUndefined();
    h.clock.set('2026-03-03T06:59:00+01:00');
    await h.deliver();
    expect(jonas.find('Gestern gab es')).toBeUndefined();
    h.clock.set('2026-03-03T07:00:00+01:00');
    await h.deliver();
    const digest = jonas.find('Gestern gab es 2 weitere passende Beiträge')!;
    expect(digest.text).toContain(TEXTS[5]!);
    expect(digest.text).toContain(TEXTS[6]!);
    expect(jonas.buttons(digest)).toEqual(['1', '2']);
    await jonas.click('1', digest);
    expect(jonas.last.text).toContain(TEXTS[5]!);
    expect(jonas.buttons()).toContain('🤝 Ich kann helfen');
    // A new day starts a new count.
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю гараж для речей на місяць.');
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(6);
  });

  it('defers notifications during quiet hours instead of dropping them', async () => {
    const jonas = h.user(PEOPLE.jonas);
    const maria = h.user(PEOPLE.maria);
    await helperWithHousing(jonas);
    await helperWithHousing(maria);
    await maria.send('/subscribe');
    await maria.click('🌙 Ruhezeit');
    await maria.click('🔔 Keine Ruhezeit');
    expect(maria.last.text).toContain('Keine Ruhezeit');

    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    h.clock.set('2026-03-02T23:30:00+01:00');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', TEXTS[0]!);
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(0);
    expect(notificationsOf(maria)).toBe(1);
    const [queued] = await h.db.db.select().from(outbox).where(eq(outbox.status, 'pending'));
    expect(queued?.notBefore.toISOString()).toBe('2026-03-03T06:00:00.000Z');

    h.clock.set('2026-03-03T07:01:00+01:00');
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(1);
  });

  it('applies a user’s own quiet hours chosen after routing, at send time', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await helperWithHousing(jonas);
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    h.clock.set('2026-03-02T21:30:00+01:00');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', TEXTS[1]!);
    // He chooses 21:00–08:00 before the worker gets to it.
    await jonas.send('/subscribe');
    await jonas.click('🌙 Ruhezeit');
    await jonas.click('🌙 21:00–08:00');
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(0);
    h.clock.set('2026-03-03T08:00:00+01:00');
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(1);
  });

  it('pauses and resumes all notifications with one tap', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await helperWithHousing(jonas);
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await jonas.send('/subscribe');
    const paused = await jonas.click('⏸ Alle pausieren');
    expect(paused.answer?.text).toBe('Pausiert');
    expect(jonas.last.text).toContain('Pausiert – Sie bekommen keine Benachrichtigungen.');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', TEXTS[2]!);
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(0);
    await jonas.click('▶️ Fortsetzen');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', TEXTS[3]!);
    await h.deliver();
    expect(notificationsOf(jonas)).toBe(1);
  });

  it('shows what is active and keeps the selection while one dimension is empty', async () => {
    const irina = h.user(PEOPLE.irina);
    await onboard(irina, 'helper', 'Юг (Süd)');
    await irina.send('/subscribe');
    expect(irina.last.text).toContain('Темы: нет');
    expect(irina.last.text).toContain('Районы: Юг (Süd)');
    expect(irina.last.text).toContain('Выберите темы, в которых вы можете помочь.');
    await irina.click('🏷 Темы');
    await irina.click('Все');
    expect(irina.buttons().filter((b) => b.startsWith('✅'))).toHaveLength(12);
    await irina.click('‹ Назад');
    await irina.click('📍 Районы');
    await irina.click('✅ Юг (Süd)');
    await irina.click('‹ Назад');
    expect(irina.last.text).toContain('Выберите хотя бы один район');
    await irina.click('📍 Районы');
    await irina.click('▫️ Райнхаузен (Rheinhausen)');
    await irina.click('‹ Назад');
    await irina.click('✅ Готово');
    expect(irina.last.text).toContain('Районы: Райнхаузен (Rheinhausen)');
    // A forged toggle is refused.
    const forged = await irina.press('sb:tc:weapons', irina.last);
    expect(forged.answer?.showAlert).toBe(true);
  });
});

describe('time zone arithmetic', () => {
  const tz = 'Europe/Berlin';
  it('ends quiet hours at 07:00 local time, also across the switch to summer time', () => {
    const quiet = { start: 22 * 60, end: 7 * 60 };
    expect(quietUntil(new Date('2026-03-02T23:30:00+01:00'), tz, quiet)?.toISOString()).toBe('2026-03-03T06:00:00.000Z');
    expect(quietUntil(new Date('2026-03-03T03:00:00+01:00'), tz, quiet)?.toISOString()).toBe('2026-03-03T06:00:00.000Z');
    expect(quietUntil(new Date('2026-03-03T12:00:00+01:00'), tz, quiet)).toBeNull();
    // Night of 28/29 March 2026: clocks go from 02:00 to 03:00; 07:00 is then UTC+2.
    expect(quietUntil(new Date('2026-03-28T23:00:00+01:00'), tz, quiet)?.toISOString()).toBe('2026-03-29T05:00:00.000Z');
    expect(quietUntil(new Date('2026-03-03T12:00:00+01:00'), tz, { start: 11 * 60, end: 13 * 60 })?.toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(quietUntil(new Date('2026-03-03T12:00:00+01:00'), tz, null)).toBeNull();
  });

  it('knows the local day and the next morning', () => {
    expect(localDay(new Date('2026-03-02T23:30:00Z'), tz)).toBe('2026-03-03');
    expect(zonedTime(2026, 10, 25, 7 * 60, tz).toISOString()).toBe('2026-10-25T06:00:00.000Z');
    expect(nextMorning(new Date('2026-03-02T10:00:00+01:00'), tz, null).toISOString()).toBe('2026-03-03T07:00:00.000Z');
    expect(nextMorning(new Date('2026-03-02T05:00:00+01:00'), tz, { start: 1320, end: 420 }).toISOString()).toBe('2026-03-02T06:00:00.000Z');
  });
});
