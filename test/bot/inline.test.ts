import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, useHarness } from '../helpers/harness';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const LINK = 'https://t.me/hilfenetz_test_bot?start=post_';

/** Olena's need in Hamborn (#1), Jonas a helper there. */
async function setup() {
  const olena = h.user(PEOPLE.olena);
  const jonas = h.user(PEOPLE.jonas);
  const irina = h.user(PEOPLE.irina);
  await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
  await onboard(jonas, 'helper', 'Hamborn');
  await onboard(irina, 'helper', 'Центр (Mitte)');
  await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
  return { olena, jonas, irina };
}

describe('sharing a post through inline mode', () => {
  it('offers the anonymous card with the deep link, in the language of whoever shares it', async () => {
    const { jonas, irina } = await setup();
    // "📤 Share" under the opened post starts inline mode with the post's number.
    const opened = await jonas.send('/start post_1');
    const share = opened.sent[0]!.replyMarkup!.inline_keyboard.flat().find((b) => b.text === '📤 Teilen');
    expect(share).toMatchObject({ switch_inline_query: '#1' });

    const answer = await jonas.inline('#1');
    expect(answer?.isPersonal).toBe(true);
    expect(answer?.results).toHaveLength(1);
    const result = answer!.results[0]!;
    expect(result.title).toBe('🏛 Behörden & Formulare · Hamborn · #1');
    const card = result.input_message_content!.message_text;
    expect(card).toContain('🆘 <b>Anfrage</b>');
    expect(card).toContain('Потрібна допомога з листом від Jobcenter.');
    // No author identity: neither name nor Telegram id.
    expect(card).not.toContain('Олена');
    expect(card).not.toContain(String(PEOPLE.olena.id));
    expect(JSON.stringify(result)).not.toContain(String(PEOPLE.olena.id));
    expect(result.reply_markup?.inline_keyboard.flat()).toEqual([{ text: '🤝 Über Hilfenetz helfen', url: `${LINK}1` }]);

    // `@bot 1` from a Russian speaker: the same post, in Russian; `@bot` alone: open needs of one's district.
    expect((await irina.inline('1'))!.results[0]!.input_message_content!.message_text).toContain('🆘 <b>Запрос</b>');
    expect((await jonas.inline(''))!.results.map((r) => r.id)).toEqual(['post-1']);
    expect((await irina.inline(''))!.results).toEqual([]);
  });

  it('marks a protected category as /browse does, and offers nothing for a post that closed meanwhile', async () => {
    const { olena, jonas } = await setup();
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату на два місяці, будь ласка.');
    const locked = (await jonas.inline('#2'))!.results[0]!.input_message_content!.message_text;
    expect(locked).toContain('Шукаю кімнату');
    expect(locked).toContain('🔒 Antworten können hier nur verifizierte Helfende.');

    await olena.send('/my');
    await olena.click('✅ Допомогу знайдено', olena.find('Потрібна допомога з листом'));
    const closed = await jonas.inline('#1');
    expect(closed?.results).toEqual([]);
    expect(closed?.button).toEqual({ text: 'Nicht mehr offen – Hilfenetz öffnen', start_parameter: 'share' });
    // That button opens the bot as usual, without a "link does not work".
    const started = await jonas.send('/start share');
    expect(started.sent.map((m) => m.text)).toEqual([expect.stringContaining('Willkommen zurück')]);
    // The card shared earlier still links to the post: it answers briefly.
    expect((await jonas.send('/start post_1')).sent[0]!.text).toBe('Schon vergeben – danke trotzdem! Weitere Beiträge: /browse');
  });

  it('answers forged and odd queries without crashing', async () => {
    const { jonas } = await setup();
    for (const query of ['#0', '#99999999999', '#2147483648', '1; drop table posts', 'x'.repeat(256), '#-1', '  #1  ']) {
      const answer = await jonas.inline(query);
      expect(answer).toBeDefined();
    }
    expect((await jonas.inline('#2147483648'))!.results).toEqual([]);
    expect((await jonas.inline('  #1  '))!.results.map((r) => r.id)).toEqual(['post-1']);
  });
});
