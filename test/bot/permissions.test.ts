import { eq } from 'drizzle-orm';
import { notices, type Role, users } from '../../src/db/schema';
import { type Action, actorOf, can } from '../../src/domain/permissions';
import { onboard } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';

const COORDINATOR: Persona = { id: 999_001, first_name: 'Sabine', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: String(COORDINATOR.id) } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const FORBIDDEN_DE = '⛔ Dafür haben Sie keine Berechtigung.';
const FORBIDDEN_UK = '⛔ У вас немає прав на цю дію.';

async function row(telegramId: number) {
  return (await h.db.db.select().from(users).where(eq(users.telegramId, telegramId)))[0]!;
}

/** Sets a role (and a ban) the way a grant, a revoke or a ban would leave it. */
async function setRole(person: TestUser, role: Role, banned = false): Promise<void> {
  await h.db.db
    .update(users)
    .set({ role, organisation: role === 'staff' ? 'Caritas' : null, bannedAt: banned ? h.clock.now() : null })
    .where(eq(users.telegramId, person.id));
}

/** The commands of gated parts, with the action their gate asks for. */
const GATED_COMMANDS: [string, Action][] = [
  ['/broadcast', 'notice.send'],
  ['/stats', 'stats.view'],
  ['/export', 'stats.export'],
  ['/invite Caritas', 'staff.invite'],
  ['/staff', 'staff.list'],
  ['/moderation', 'moderation.review'],
];

describe('gated commands', () => {
  it('answer exactly those the domain allows, and refuse everyone else in their language', async () => {
    const people: Record<string, TestUser> = {
      newcomer: h.user({ id: 491_001, first_name: 'Neu', language_code: 'de' }),
      seeker: h.user({ id: 491_002, first_name: 'Suchend', language_code: 'de' }),
      helper: h.user({ id: 491_003, first_name: 'Helfend', language_code: 'de' }),
      staff: h.user({ id: 491_004, first_name: 'Amt', language_code: 'de' }),
      coordinator: h.user(COORDINATOR),
    };
    await people.newcomer!.send('/help');
    await onboard(people.seeker!, 'seeker', 'Hamborn');
    await onboard(people.helper!, 'helper', 'Hamborn');
    await onboard(people.staff!, 'helper', 'Hamborn');
    await setRole(people.staff!, 'staff');
    await people.coordinator!.send('/start');

    for (const [kind, person] of Object.entries(people)) {
      const actor = actorOf(await row(person.id));
      for (const [command, action] of GATED_COMMANDS) {
        const reaction = await person.send(command);
        const answer = reaction.sent[0]?.text;
        if (can(actor, action)) expect([kind, command, answer === FORBIDDEN_DE, reaction.sent.length > 0]).toEqual([kind, command, false, true]);
        else expect([kind, command, answer]).toEqual([kind, command, FORBIDDEN_DE]);
      }
      await person.send('/cancel');
    }
  });

  it('refuses a banned staff member: a ban takes every permission away', async () => {
    const staff = h.user(PEOPLE.maria);
    await onboard(staff, 'helper', 'Hamborn');
    await setRole(staff, 'staff', true);
    const banned = '⛔ Ihr Konto ist gesperrt. Sie können keine Beiträge erstellen und niemanden kontaktieren.';
    expect((await staff.send('/broadcast')).sent[0]?.text).toBe(banned);
    expect((await staff.send('/stats')).sent[0]?.text).toBe(banned);
    expect((await staff.press('m:broadcast', staff.last)).answer).toEqual({ text: banned, showAlert: true });
    // Not a staff member at all: the missing role comes first.
    expect((await staff.send('/export')).sent[0]?.text).toBe(FORBIDDEN_DE);
  });
});

describe('gated buttons', () => {
  it('refuse a seeker pressing staff and coordinator buttons (old menus, forged data) and do nothing', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    const before = await h.db.db.select().from(notices);
    for (const data of ['m:broadcast', 'bc:aud:everyone', 'bc:send:-', 'n:stop:1', 'm:stats', 'st:refresh', 'st:csv', 'sf:revoke:1', 'sf:promote:1', 'm:moderation', 'mo:home:0:-', 'mo:banr:1:spam']) {
      const pressed = await olena.press(data, olena.last);
      expect([data, pressed.answer]).toEqual([data, { text: FORBIDDEN_UK, showAlert: true }]);
      expect([data, pressed.sent, pressed.edited]).toEqual([data, [], []]);
    }
    expect(await h.db.db.select().from(notices)).toEqual(before);
    // A forged button of a gated part is stale for everyone, as before the gates.
    expect((await olena.press('st:everything', olena.last)).answer?.text).toContain('Ця кнопка');
  });

  it("let staff stop their own notices only: another's stop button is refused by the domain", async () => {
    const anna = h.user({ id: 491_010, first_name: 'Anna', language_code: 'de' });
    const bernd = h.user({ id: 491_011, first_name: 'Bernd', language_code: 'de' });
    for (const person of [anna, bernd]) {
      await onboard(person, 'helper', 'Hamborn');
      await setRole(person, 'staff');
    }
    const [notice] = await h.db.db
      .insert(notices)
      .values({ authorId: (await row(anna.id)).id, organisation: 'Caritas', audience: 'everyone', districts: [], languages: [], texts: { de: 'Hallo' }, status: 'sending', recipientCount: 1, createdAt: h.clock.now() })
      .returning();
    const pressed = await bernd.press(`n:stop:${notice!.id}`, bernd.last);
    expect(pressed.answer).toEqual({ text: FORBIDDEN_DE, showAlert: true });
    expect((await h.db.db.select().from(notices).where(eq(notices.id, notice!.id)))[0]!.status).toBe('sending');
  });
});

describe('gated dialogs', () => {
  it('refuse what a revoked staff member types into the notice composer, once, and end the composer', async () => {
    const maria = h.user(PEOPLE.maria);
    await onboard(maria, 'helper', 'Hamborn');
    await setRole(maria, 'staff');
    await maria.send('/broadcast');
    await maria.click('👥 Alle');
    await maria.click('Weiter ›');
    await maria.click('Weiter ›');
    expect(maria.last.text).toContain('Text auf');

    await setRole(maria, 'helper');
    const refused = await maria.send('Ein Text für alle, den niemand mehr senden darf.');
    expect(refused.sent.map((m) => m.text)).toEqual([FORBIDDEN_DE]);
    // The composer is over: the next text is not taken for it (nor refused again).
    const next = await maria.send('Noch ein Text.');
    expect(next.sent.map((m) => m.text)).not.toContain(FORBIDDEN_DE);
    expect(await h.db.db.select().from(notices)).toHaveLength(0);
  });
});
