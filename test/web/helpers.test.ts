import { and, eq } from 'drizzle-orm';
import { auditLog, organisations, outbox, users, verifications } from '../../src/db/schema';
import { onboard } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { csrfOf, loginPathFromBot, startWebServer, WebClient } from '../helpers/web';

/**
 * The web desk's "Helpers and organisations" page: verification for the protected categories, organisations
 * with their verified members, staff invites and revocation — through the same domain functions as the
 * bot's /verified, /orginvite, /invite and /staff, audit-logged, and refused to staff.
 */
const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'http://desk.example.org' } });
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

async function loggedIn(user: TestUser): Promise<{ client: WebClient; csrf: string }> {
  const client = new WebClient(web.base);
  expect((await client.login(await loginPathFromBot(user))).status).toBe(303);
  const page = await client.get('/web/overview');
  return { client, csrf: csrfOf(await page.text()) };
}

async function katrin(): Promise<{ client: WebClient; csrf: string }> {
  const user = h.user(COORDINATOR);
  await user.send('/start');
  return loggedIn(user);
}

/** The link shown once on the page after creating it. */
function createdLink(html: string): string {
  const match = /<code class="link">(https:\/\/t\.me\/[^<]+)<\/code>/.exec(html);
  if (!match) throw new Error('no link on the page');
  return match[1]!.replace(/&amp;/g, '&');
}

const auditActions = async () => (await h.db.db.select().from(auditLog)).map((a) => a.action);

it('verifies a helper who asked in the bot, withdraws it again, and refuses a decided request', async () => {
  const jonas = h.user(PEOPLE.jonas);
  await onboard(jonas, 'helper', 'Hamborn');
  await jonas.send('/settings');
  await jonas.click('🛡 Verifizieren lassen');
  await jonas.click('✅ Verifizierung anfragen');
  const jonasId = await idOf(PEOPLE.jonas);

  const { client, csrf } = await katrin();
  const page = await (await client.get('/web/helpers')).text();
  expect(page).toContain('Helfende und Organisationen');
  expect(page).toMatch(new RegExp(`<tr data-id="${jonasId}"><td>Jonas \\(@jonas_hilft\\)</td><td>Hamborn</td>`));
  expect(page).toContain('Offene Anfragen: 1');

  const verified = await client.post(`/web/verification/${jonasId}`, { _csrf: csrf, action: 'verify' });
  expect(verified.status).toBe(303);
  expect(verified.headers.get('location')).toBe('/web/helpers?done=verified#verification');
  const [row] = await h.db.db.select().from(verifications).where(eq(verifications.userId, jonasId));
  expect([row!.status, row!.decidedBy]).toEqual(['verified', await idOf(COORDINATOR)]);
  await h.deliver();
  expect(jonas.last.text).toContain('Die Koordination hat Sie verifiziert');
  const after = await (await client.get('/web/helpers?done=verified')).text();
  expect(after).toContain('Verifiziert; die Person wurde informiert.');
  expect(after).toContain('Offene Anfragen: 0');
  expect(after).toContain('Einzeln verifiziert: 1');

  // Deciding again (another coordinator was faster, or an old page): the domain's refusal, 409.
  const again = await client.post(`/web/verification/${jonasId}`, { _csrf: csrf, action: 'decline' });
  expect(again.status).toBe(409);
  expect(await again.text()).toContain('Schon entschieden: verifiziert.');

  // Withdrawing needs the tick; then Jonas is told.
  expect((await client.post(`/web/verification/${jonasId}`, { _csrf: csrf, action: 'withdraw' })).status).toBe(400);
  const withdrawn = await client.post(`/web/verification/${jonasId}`, { _csrf: csrf, action: 'withdraw', confirm: '1' });
  expect(withdrawn.headers.get('location')).toBe('/web/helpers?done=withdrawn#verification');
  await h.deliver();
  expect(jonas.last.text).toContain('Verifizierung zurückgenommen');
  expect(await auditActions()).toEqual(expect.arrayContaining(['verification.requested', 'verification.granted', 'verification.withdrawn']));

  // Forged ids and actions.
  expect((await client.post('/web/verification/0', { _csrf: csrf, action: 'verify' })).status).toBe(400);
  expect((await client.post(`/web/verification/${jonasId}`, { _csrf: csrf, action: 'promote' })).status).toBe(400);
  expect((await client.post('/web/verification/424242', { _csrf: csrf, action: 'verify' })).status).toBe(409);
});

it('creates an organisation link; whoever opens it shows up as a verified member; withdrawing the organisation tells them', async () => {
  const { client, csrf } = await katrin();
  const res = await client.post('/web/organisations/invite', { _csrf: csrf, organisation: '  Caritas   Duisburg ' });
  expect(res.status).toBe(200);
  const link = createdLink(await res.text());
  expect(link).toMatch(new RegExp(`^https://t\\.me/${h.telegram.botInfo.username}\\?start=org_[A-Za-z0-9_-]+$`));

  const maria = h.user(PEOPLE.maria);
  await onboard(maria, 'helper', 'Hamborn');
  await maria.send(`/start ${link.split('start=')[1]}`);
  expect(maria.last.text).toContain('Caritas Duisburg');

  const page = await (await client.get('/web/helpers')).text();
  const [org] = await h.db.db.select().from(organisations);
  expect(page).toMatch(new RegExp(`<tr data-id="${org!.id}"><td>Caritas Duisburg</td><td class="num">1</td><td><ul class="plain"><li>Maria \\(ohne Benutzernamen\\)</li></ul>`));

  expect((await client.post(`/web/organisations/${org!.id}/withdraw`, { _csrf: csrf })).status).toBe(400);
  const withdrawn = await client.post(`/web/organisations/${org!.id}/withdraw`, { _csrf: csrf, confirm: '1' });
  expect(withdrawn.headers.get('location')).toBe('/web/helpers?done=orgWithdrawn&n=1#organisations');
  expect((await client.post(`/web/organisations/${org!.id}/withdraw`, { _csrf: csrf, confirm: '1' })).status).toBe(409);
  await h.deliver();
  expect(await h.db.db.select().from(outbox).where(and(eq(outbox.kind, 'verification.orgWithdrawn'), eq(outbox.userId, await idOf(PEOPLE.maria))))).toHaveLength(1);
  expect(await auditActions()).toEqual(expect.arrayContaining(['organisation.invite.created', 'organisation.joined', 'organisation.withdrawn']));

  // A name the domain refuses: the page again with the reason; an oversized one: 400.
  const bad = await client.post('/web/organisations/invite', { _csrf: csrf, organisation: 'x' });
  expect(bad.status).toBe(409);
  expect(await bad.text()).toContain('2 bis 80 Zeichen');
  expect((await client.post('/web/organisations/invite', { _csrf: csrf, organisation: 'x'.repeat(201) })).status).toBe(400);
});

it('invites staff with a single-use link, lists them, and revokes them (their live session ends); staff may do none of it', async () => {
  const { client, csrf } = await katrin();
  const res = await client.post('/web/staff/invite', { _csrf: csrf, organisation: 'Diakonie' });
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('Einladungslink für Mitarbeitende von Diakonie');
  const code = createdLink(html).split('start=')[1]!;

  const petro = h.user(PEOPLE.petro);
  await petro.send(`/start ${code}`);
  const petroId = await idOf(PEOPLE.petro);
  const [staffRow] = await h.db.db.select().from(users).where(eq(users.id, petroId));
  expect([staffRow!.role, staffRow!.organisation]).toEqual(['staff', 'Diakonie']);
  // Single use: the next person gets "already used".
  const olena = h.user(PEOPLE.olena);
  await olena.send(`/start ${code}`);
  expect(olena.last.text).toContain('вже використано');

  // Petro, staff, on the web desk: the helpers page and its actions are the coordinators' (403).
  const staff = await loggedIn(petro);
  expect((await staff.client.get('/web/helpers')).status).toBe(403);
  for (const [path, form] of [
    ['/web/staff/invite', { organisation: 'Diakonie' }],
    [`/web/staff/${petroId}/revoke`, { confirm: '1' }],
    [`/web/verification/${petroId}`, { action: 'verify' }],
    ['/web/organisations/invite', { organisation: 'Diakonie' }],
    ['/web/organisations/1/withdraw', { confirm: '1' }],
  ] as const) {
    const refused = await staff.client.post(path, { _csrf: staff.csrf, ...form });
    expect([path, refused.status]).toEqual([path, 403]);
  }

  const page = await (await client.get('/web/helpers')).text();
  expect(page).toMatch(new RegExp(`<tr data-id="${petroId}"><td>Петро \\(ohne Benutzernamen\\)</td><td>Mitarbeitende</td><td>Diakonie</td>`));
  expect((await client.post(`/web/staff/${petroId}/revoke`, { _csrf: csrf })).status).toBe(400);
  const revoked = await client.post(`/web/staff/${petroId}/revoke`, { _csrf: csrf, confirm: '1' });
  expect(revoked.headers.get('location')).toBe('/web/helpers?done=staffRevoked#staff');
  const [helperRow] = await h.db.db.select().from(users).where(eq(users.id, petroId));
  expect([helperRow!.role, helperRow!.organisation]).toEqual(['helper', null]);
  expect((await staff.client.get('/web/overview')).status).toBe(303);
  await h.deliver();
  expect(await h.db.db.select().from(outbox).where(and(eq(outbox.kind, 'staff.revoked'), eq(outbox.userId, petroId)))).toHaveLength(1);
  // A coordinator is no staff to revoke.
  const self = await client.post(`/web/staff/${await idOf(COORDINATOR)}/revoke`, { _csrf: csrf, confirm: '1' });
  expect(self.status).toBe(409);
  expect(await auditActions()).toEqual(expect.arrayContaining(['invite.created', 'staff.granted', 'staff.revoked']));
});
