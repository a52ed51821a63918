import { eq, sql } from 'drizzle-orm';
import { auditLog, contacts, notifications, organisationMembers, posts, reports, users, verifications } from '../../src/db/schema';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';

const HOUR = 3_600_000;
const harness = useHarness({
  env: {
    WAVE_SIZE: '10',
    WAVE_INTERVAL: '3h',
    FOLLOW_UP_AFTER: '1h',
    DESK_AFTER: '30d',
    ORG_INVITE_TTL: '2d',
    ADMIN_TELEGRAM_IDS: '900001,900002',
    MAX_OPEN_POSTS: '20',
    MAX_POSTS_PER_DAY: '20',
  },
});
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

type Lang = 'uk' | 'de' | 'ru';
const KATRIN: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const OKSANA: Persona = { id: 900_002, first_name: 'Оксана', language_code: 'uk' };
const FORBIDDEN = '⛔ Dafür haben Sie keine Berechtigung.';

async function coordinator(persona: Persona = KATRIN): Promise<TestUser> {
  const user = h.user(persona);
  await user.send('/start');
  return user;
}

async function userId(persona: { id: number }): Promise<number> {
  const [row] = await h.db.db.select({ id: users.id }).from(users).where(eq(users.telegramId, persona.id));
  return row!.id;
}

/** A helper in Hamborn subscribed to needs of these categories there. */
async function helper(persona: Persona, categories = ['housing', 'health']): Promise<TestUser> {
  const user = h.user(persona);
  await onboard(user, 'helper', h.deps.city.districtName('hamborn', (persona.language_code ?? 'de') as Lang));
  await replaceSubscriptions(h.db.db, await userId(persona), 'need', { categories, districts: ['hamborn'] });
  return user;
}

async function publishNeed(user: TestUser, category: string, text: string): Promise<number> {
  const lang = (user.persona.language_code ?? 'de') as Lang;
  await post(user, 'need', h.deps.city.categoryLabel(category, lang), h.deps.city.districtName('hamborn', lang), text);
  const [latest] = await h.db.db.select({ id: posts.id }).from(posts).orderBy(sql`${posts.id} desc`).limit(1);
  return latest!.id;
}

async function told(postId: number): Promise<number[]> {
  return (await h.db.db.select().from(notifications).where(eq(notifications.postId, postId))).map((n) => n.userId).sort();
}

const cards = (user: TestUser, postId: number) => user.messages.filter((m) => m.text.startsWith('🆕') && m.text.includes(`#${postId}`));

/** A helper asks from /settings: the explanation, then "ask"; returns what the coordinators were sent. */
async function askForVerification(user: TestUser): Promise<void> {
  const lang = (user.persona.language_code ?? 'de') as Lang;
  await user.send('/settings');
  await user.click({ uk: '🛡 Пройти верифікацію', de: '🛡 Verifizieren lassen', ru: '🛡 Пройти верификацию' }[lang]);
  await user.click({ uk: '✅ Надіслати запит', de: '✅ Verifizierung anfragen', ru: '✅ Отправить запрос' }[lang]);
}

describe('protected categories', () => {
  it('tells only verified helpers of a protected need; others see it in /browse with a note and are refused "I can help"', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    const jonas = await helper(PEOPLE.jonas);
    const petro = await helper(PEOPLE.petro);
    await h.db.db.insert(verifications).values({ userId: await userId(PEOPLE.jonas), status: 'verified', decidedAt: h.clock.now() });

    const housing = await publishNeed(olena, 'housing', 'Шукаю кімнату для себе й доньки.');
    const health = await publishNeed(olena, 'health', 'Потрібен педіатр, який говорить українською.');
    await h.deliver();
    // The protected need reaches the verified helper only; the other need reaches both.
    expect(await told(housing)).toEqual([await userId(PEOPLE.jonas)]);
    expect(await told(health)).toEqual([await userId(PEOPLE.jonas), await userId(PEOPLE.petro)].sort());
    expect(cards(jonas, housing)).toHaveLength(1);
    expect(cards(petro, housing)).toHaveLength(0);
    expect(cards(petro, health)).toHaveLength(1);

    // Petro sees it in /browse, marked, with a note and the way to get verified.
    await petro.send('/browse');
    expect(petro.last.text).toContain('🔒 🏠 Житло');
    expect(petro.last.text).toContain('🔒 = лише для верифікованих помічників.');
    expect(petro.buttons()).toContain('🛡 Пройти верифікацію');
    // Opening it: a note instead of "I can help".
    // Newest first: the health need is 1, the housing need 2.
    await petro.click('2');
    expect(petro.last.text).toContain('🔒 Тут допомогу можуть пропонувати лише верифіковані помічники.');
    expect(petro.buttons()).toEqual(['🛡 Пройти верифікацію', '📤 Поділитися', '⚠️ Поскаржитися']);
    // An old or forged "I can help": a short refusal, and a message with the way to get verified.
    const refused = await petro.press(`c:req:${housing}`, petro.last);
    expect(refused.answer).toEqual({ text: '🔒 Тут допомогу можуть пропонувати лише верифіковані помічники. Верифікація: /settings', showAlert: true });
    expect(refused.sent[0]?.text).toBe(
      '🔒 У темах 🏠 Житло, 👨‍👩‍👧 Сім\'я та догляд за дітьми допомогу можуть пропонувати лише помічники, яких верифікувала координація. Верифікацію можна пройти через посилання вашої організації або кнопкою нижче.',
    );
    expect(petro.buttons(refused.sent[0])).toEqual(['🛡 Пройти верифікацію']);
    expect(await h.db.db.select().from(contacts).where(eq(contacts.responderId, await userId(PEOPLE.petro)))).toHaveLength(0);
    // On the need he may help with, he can.
    await petro.press(`c:req:${health}`, cards(petro, health)[0]);
    expect(await h.db.db.select().from(contacts).where(eq(contacts.responderId, await userId(PEOPLE.petro)))).toHaveLength(1);
    // Jonas, verified, offers help on the protected need.
    await jonas.click('🤝 Ich kann helfen', cards(jonas, housing)[0]);
    expect(await h.db.db.select().from(contacts).where(eq(contacts.postId, housing))).toHaveLength(1);
  });

  it('widening and the desk\'s "to everyone" reach verified helpers only', async () => {
    const katrin = await coordinator();
    const irina = h.user(PEOPLE.irina);
    await onboard(irina, 'seeker', 'Хамборн (Hamborn)');
    // Nobody in Hamborn; a verified and an unverified helper next door (Walsum) and across the city (Süd).
    const near = [PEOPLE.jonas, PEOPLE.maria];
    for (const p of near) {
      await onboard(h.user(p), 'helper', 'Walsum');
      await replaceSubscriptions(h.db.db, await userId(p), 'need', { categories: ['family'], districts: ['walsum'] });
    }
    const far = [PEOPLE.olena, PEOPLE.petro];
    for (const p of far) {
      await onboard(h.user(p), 'helper', 'Південь (Süd)');
      await replaceSubscriptions(h.db.db, await userId(p), 'need', { categories: ['family'], districts: ['sued'] });
    }
    await h.db.db.insert(verifications).values([
      { userId: await userId(PEOPLE.jonas), status: 'verified', decidedAt: h.clock.now() },
      { userId: await userId(PEOPLE.olena), status: 'verified', decidedAt: h.clock.now() },
    ]);
    const need = await publishNeed(irina, 'family', 'Нужен присмотр за ребёнком два утра в неделю.');
    expect(await told(need)).toEqual([await userId(PEOPLE.jonas)]);
    const [row] = await h.db.db.select().from(posts).where(eq(posts.id, need));
    expect(row?.widenedAt).not.toBeNull();

    await h.db.db.update(posts).set({ deskAt: h.clock.now() }).where(eq(posts.id, need));
    await katrin.send('/desk');
    await katrin.click(/^📣/);
    expect(await told(need)).toEqual([await userId(PEOPLE.jonas), await userId(PEOPLE.olena)].sort());
  });
});

describe('verification', () => {
  it('a helper asks; every coordinator gets it at once; one verifies, the other is told it is decided; the helper is told in her language', async () => {
    const katrin = await coordinator();
    const oksana = await coordinator(OKSANA);
    const olena = h.user({ ...PEOPLE.olena, username: 'olena_help' });
    await onboard(olena, 'helper', 'Гамборн (Hamborn)');
    await olena.send('/settings');
    expect(olena.last.text).toContain('🛡 Верифікація: ні (потрібна для тем 🏠 Житло, 👨‍👩‍👧 Сім\'я та догляд за дітьми)');
    await olena.click('🛡 Пройти верифікацію');
    expect(olena.last.text).toContain('координація побачить ваше ім\'я та ім\'я користувача в Telegram');
    const asked = await olena.click('✅ Надіслати запит');
    expect(asked.edited[0]?.text).toBe('⏳ Ваш запит у координації. Ми повідомимо вас тут.');
    // Asking twice changes nothing.
    await olena.send('/settings');
    expect(olena.last.text).toContain('🛡 Верифікація: запит надіслано, координація перевіряє');
    expect(olena.buttons()).not.toContain('🛡 Пройти верифікацію');

    // At once, without waiting for a sweep: the request with Verify and Decline, in each coordinator's language.
    await h.deliver();
    const request = katrin.find('Bitte um Verifizierung')!;
    expect(request.text).toContain('Олена (@olena_help) · Ich helfe · 📍 Hamborn');
    expect(katrin.buttons(request)).toEqual(['✅ Verifizieren', '✖️ Ablehnen']);
    const requestUk = oksana.find('Запит на верифікацію')!;
    expect(oksana.buttons(requestUk)).toEqual(['✅ Верифікувати', '✖️ Відхилити']);

    const verified = await katrin.click('✅ Verifizieren', request);
    expect(verified.answer?.text).toBe('Олена ist jetzt verifiziert.');
    expect(katrin.buttons(request)).toEqual([]);
    expect(katrin.messages.find((m) => m.messageId === request.messageId)?.text).toContain('✅ Von Ihnen verifiziert.');
    const late = await oksana.click('✖️ Відхилити', requestUk);
    expect(late.answer).toEqual({ text: 'Уже вирішено: верифіковано.', showAlert: true });
    expect(oksana.buttons(requestUk)).toEqual([]);

    await h.deliver();
    expect(olena.last.text).toBe('✅ Координація вас верифікувала. Тепер ви можете допомагати й у темах 🏠 Житло, 👨‍👩‍👧 Сім\'я та догляд за дітьми. Сповіщення: /subscribe');
    await olena.send('/settings');
    expect(olena.last.text).toContain('🛡 Верифіковано координацією');
    const audit = await h.db.db.select().from(auditLog).where(eq(auditLog.targetUserId, await userId(PEOPLE.olena)));
    expect(audit.map((a) => a.action).sort()).toEqual(['verification.granted', 'verification.requested']);

    // /verified lists her; withdrawing asks first, then tells her.
    await katrin.send('/verified');
    expect(katrin.last.text).toContain('👤 Einzeln verifiziert (1):\n1. Олена (@olena_help) · 📍 Hamborn');
    await katrin.click('↩️ 1 zurücknehmen');
    expect(katrin.last.text).toContain('Verifizierung von Олена (@olena_help) zurücknehmen?');
    const withdrawn = await katrin.click('↩️ Ja, zurücknehmen');
    expect(withdrawn.answer?.text).toBe('Verifizierung zurückgenommen: Олена');
    expect(katrin.last.text).toContain('👤 Einzeln verifiziert (0):');
    await h.deliver();
    expect(olena.last.text).toContain('ℹ️ Координація скасувала вашу верифікацію.');
    const [row] = await h.db.db.select().from(verifications).where(eq(verifications.userId, await userId(PEOPLE.olena)));
    expect(row?.status).toBe('withdrawn');
    expect((await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'verification.withdrawn'))).length).toBe(1);
  });

  it('a declined helper is told politely and may ask again', async () => {
    const katrin = await coordinator();
    const jonas = await helper(PEOPLE.jonas);
    await askForVerification(jonas);
    await katrin.send('/verified');
    expect(katrin.last.text).toContain('⏳ Offene Anfragen (1):\n1. Jonas (@jonas_hilft)');
    await katrin.click('✖️ 1');
    expect(katrin.last.text).toContain('⏳ Offene Anfragen (0):');
    await h.deliver();
    expect(jonas.last.text).toBe('Ihre Bitte um Verifizierung wurde diesmal nicht angenommen. Bei allen anderen Themen können Sie weiter helfen: /browse');
    await jonas.send('/settings');
    expect(jonas.last.text).toContain('(Anfrage abgelehnt; Sie können erneut fragen)');
    await askForVerification(jonas);
    const [row] = await h.db.db.select().from(verifications).where(eq(verifications.userId, await userId(PEOPLE.jonas)));
    expect(row?.status).toBe('requested');
  });

  it('refuses the coordinators\' commands and buttons to everyone else, forged data included', async () => {
    await coordinator();
    const jonas = await helper(PEOPLE.jonas);
    const irina = h.user(PEOPLE.irina);
    await onboard(irina, 'helper', 'Хамборн (Hamborn)');
    await askForVerification(irina);
    const irinaId = await userId(PEOPLE.irina);
    expect((await jonas.send('/verified')).sent[0]?.text).toBe(FORBIDDEN);
    expect((await jonas.send('/orginvite Caritas')).sent[0]?.text).toBe(FORBIDDEN);
    for (const data of [`vf:ok:${irinaId}`, `vf:lok:${irinaId}`, `vf:no:${irinaId}`, `vf:wd:${irinaId}`, 'vf:woy:1', 'vf:list:-']) {
      const pressed = await jonas.press(data, jonas.last);
      expect([data, pressed.answer]).toEqual([data, { text: FORBIDDEN, showAlert: true }]);
    }
    // In Russian for Irina, who may not verify herself either.
    expect((await irina.press(`vf:ok:${irinaId}`, irina.last)).answer).toEqual({ text: '⛔ У вас нет прав на это действие.', showAlert: true });
    const [row] = await h.db.db.select().from(verifications).where(eq(verifications.userId, irinaId));
    expect(row?.status).toBe('requested');
    // Nonsense after the prefix is stale, also for a coordinator.
    const katrin = h.user(KATRIN);
    expect((await katrin.press('vf:ok:abc', katrin.last)).answer?.text).toBe('Dieser Knopf ist nicht mehr aktuell. Bitte nutzen Sie die neueste Nachricht oder /start.');
  });
});

describe('organisations', () => {
  it('joins through the invite link as verified members; expired and forged links are refused; withdrawal reaches the members', async () => {
    const katrin = await coordinator();
    await katrin.send('/orginvite Caritas Duisburg');
    expect(katrin.last.text).toContain('🎟 Einladungslink für Caritas Duisburg');
    const code = /start=org_([A-Za-z0-9_-]+)/.exec(katrin.last.text)![1]!;

    // A new person opens the link: verified member, then the usual set-up.
    const irina = h.user(PEOPLE.irina);
    const joined = await irina.send(`/start org_${code}`);
    expect(joined.sent[0]?.text).toBe('🛡 Добро пожаловать! Теперь вы верифицированы как участник Caritas Duisburg и можете помогать и в темах 🏠 Жильё, 👨‍👩‍👧 Семья и присмотр за детьми.');
    expect(joined.sent[1]?.text).toContain('Hilfenetz');
    await irina.click('🤝 Я хочу помочь');
    await irina.click('Хамборн (Hamborn)');
    await replaceSubscriptions(h.db.db, await userId(PEOPLE.irina), 'need', { categories: ['housing'], districts: ['hamborn'] });
    // A second member, also verified one by one.
    const jonas = await helper(PEOPLE.jonas, ['housing']);
    await jonas.send(`/start org_${code}`);
    expect(jonas.last.text).toContain('Sie sind jetzt als Mitglied von Caritas Duisburg verifiziert');
    await h.db.db.insert(verifications).values({ userId: await userId(PEOPLE.jonas), status: 'verified', decidedAt: h.clock.now() });
    expect((await jonas.send(`/start org_${code}`)).sent[0]?.text).toBe('Sie sind bereits Mitglied von Caritas Duisburg und verifiziert.');

    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    const first = await publishNeed(olena, 'housing', 'Шукаю кімнату на два місяці.');
    expect(await told(first)).toEqual([await userId(PEOPLE.irina), await userId(PEOPLE.jonas)].sort());
    await h.deliver();
    expect(cards(irina, first)).toHaveLength(1);

    // Forged and expired links.
    const maria = h.user(PEOPLE.maria);
    expect((await maria.send('/start org_AAAAAAAAAAAAAAAAAAAAAAAA')).sent[0]?.text).toBe(
      'Diesen Einladungslink gibt es nicht. Bitte prüfen Sie den Link oder fragen Sie Ihre Organisation nach dem aktuellen.\n\nSie können Hilfenetz trotzdem nutzen: /start',
    );
    expect((await maria.send('/start org_<script>')).sent[0]?.text).toBe('Dieser Link ist ungültig oder abgelaufen. Sie können trotzdem loslegen:');
    h.clock.advance(2 * 24 * HOUR);
    expect((await maria.send(`/start org_${code}`)).sent[0]?.text).toContain('Dieser Einladungslink ist abgelaufen.');
    expect(await h.db.db.select().from(organisationMembers)).toHaveLength(2);

    // Withdrawing the organisation: Irina loses her verification and is told in Russian; Jonas keeps his own.
    await katrin.send('/verified');
    expect(katrin.last.text).toContain('2. Caritas Duisburg · Mitglieder: 2 · kein gültiger Link');
    await katrin.click('↩️ 2 zurücknehmen');
    expect(katrin.last.text).toContain('Verifizierung von Caritas Duisburg zurücknehmen?');
    const withdrawn = await katrin.click('↩️ Ja, zurücknehmen');
    expect(withdrawn.answer?.text).toBe('Caritas Duisburg: zurückgenommen, 1 Person verliert die Verifizierung.');
    await h.deliver();
    expect(irina.last.text).toBe(
      'ℹ️ Координация отозвала верификацию Caritas Duisburg – а значит, и вашу. В темах 🏠 Жильё, 👨‍👩‍👧 Семья и присмотр за детьми вы больше не можете предлагать помощь. Личная верификация: /settings',
    );
    expect(jonas.messages.filter((m) => m.text.includes('zurückgenommen'))).toHaveLength(0);
    const second = await publishNeed(olena, 'housing', 'Шукаю квартиру для мами з травня.');
    expect(await told(second)).toEqual([await userId(PEOPLE.jonas)]);
    // Her old notification's button no longer works.
    const refused = await irina.press(`c:req:${first}`, cards(irina, first)[0]);
    expect(refused.answer?.text).toBe('🔒 Здесь помощь могут предлагать только верифицированные помощники. Верификация: /settings');
    const actions = (await h.db.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['organisation.invite.created', 'organisation.joined', 'organisation.withdrawn', 'verification.withdrawn']));
  });
});

describe('the follow-up in a protected category', () => {
  it('asks whether everything was all right; "report a problem" reaches every coordinator at once and waits in /moderation', async () => {
    const katrin = await coordinator();
    const oksana = await coordinator(OKSANA);
    const jonas = await helper(PEOPLE.jonas, ['housing', 'health']);
    await h.db.db.insert(verifications).values({ userId: await userId(PEOPLE.jonas), status: 'verified', decidedAt: h.clock.now() });
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    const housing = await publishNeed(olena, 'housing', 'Шукаю кімнату на два місяці.');
    const health = await publishNeed(olena, 'health', 'Потрібен стоматолог для сина.');
    await h.deliver();
    for (const id of [housing, health]) {
      await jonas.click('🤝 Ich kann helfen', cards(jonas, id)[0]);
      await h.deliver();
      await olena.click('✅ Прийняти');
    }
    h.clock.advance(HOUR);
    await h.sweep();
    await h.deliver();
    const questions = olena.messages.filter((m) => m.text.startsWith('💬'));
    expect(questions).toHaveLength(2);
    const protectedQuestion = questions.find((m) => m.text.includes(`#${housing}`))!;
    const plainQuestion = questions.find((m) => m.text.includes(`#${health}`))!;
    expect(protectedQuestion.text).toContain('🛡 Чи все було гаразд із помічником?');
    expect(olena.buttons(protectedQuestion)).toContain('⚠️ Повідомити про проблему');
    expect(plainQuestion.text).not.toContain('🛡');
    expect(olena.buttons(plainQuestion)).not.toContain('⚠️ Повідомити про проблему');

    const reported = await olena.click('⚠️ Повідомити про проблему', protectedQuestion);
    expect(reported.sent[0]?.text).toContain('🙏 Дякуємо. Координацію повідомлено');
    // No sweep: the coordinators are told with the next delivery, each in their language.
    await h.deliver();
    expect(katrin.last.text).toBe(`🚨 Sicherheitsmeldung: Eine hilfesuchende Person meldet ein Problem mit der helfenden Person bei 🏠 Wohnen · Hamborn (#${housing}). Bitte jetzt ansehen.`);
    expect(oksana.last.text).toContain('🚨 Повідомлення про безпеку');
    expect(jonas.messages.some((m) => m.text.includes('🚨'))).toBe(false);
    const [report] = await h.db.db.select().from(reports);
    expect(report).toMatchObject({ targetType: 'contact', targetUserId: await userId(PEOPLE.jonas), status: 'open' });
    // The batched summary does not announce it a second time.
    h.clock.advance(10 * 60_000);
    await h.sweep();
    await h.deliver();
    expect(katrin.messages.filter((m) => m.text.includes('Sicherheitsmeldung'))).toHaveLength(1);
    expect(katrin.messages.filter((m) => m.text.startsWith('🛡 Moderation:'))).toHaveLength(0);
    // Once only.
    expect((await olena.click('⚠️ Повідомити про проблему', protectedQuestion)).answer?.text).toBe('Ви вже повідомили про це – координація цим займається.');
    // Someone else's conversation cannot be reported this way.
    const maria = h.user(PEOPLE.maria);
    await maria.send('/start');
    expect((await maria.press(`fs:${report!.targetId}`, maria.last)).answer?.text).toBe('Das kann nicht (mehr) gemeldet werden.');

    // In /moderation the report shows the conversation's need and the helper; a ban is one tap away.
    await katrin.send('/moderation');
    await katrin.click(/Meldung prüfen/);
    expect(katrin.last.text).toContain(`Gemeldet: die helfende Person im Gespräch #${report!.targetId}`);
    expect(katrin.last.text).toContain('Von: <b>Jonas</b>'.replace(/<\/?b>/g, ''));
    expect(katrin.last.text).toContain('Шукаю кімнату на два місяці.');
    expect(katrin.buttons()).toEqual(expect.arrayContaining(['⚠️ Verwarnen', '⛔ Sperren']));
  });
});
