import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Context as HonoContext, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { z } from 'zod';
import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import { type Config, LOCALES, type Locale } from '../config';
import type { Database } from '../db';
import { POST_STATUSES, REPORT_REASONS } from '../db/schema';
import { auditActions, AUDIT_PAGE_SIZE, listAudit } from '../domain/audit';
import { summarizeChannels } from '../domain/channels';
import { broadcastDeskItem, closeDeskItem, DESK_CLOSE_REASONS, listDesk, referToOffice, takeDeskItem } from '../domain/desk';
import { routingContext } from '../domain/matching';
import { DomainError } from '../domain/errors';
import { collectHelperLoad } from '../domain/helper-load';
import { banUser, dismissReport, findReport, listBanned, listOpenReports, removeReportedPost, unbanUser, warnReportedUser } from '../domain/moderation';
import { ESCALATION_LEVELS, listNeeds, NEED_SOURCES, NEEDS_EXPORT_LIMIT, NEEDS_PAGE_SIZE, needHistory, type NeedsFilter } from '../domain/needs-list';
import { findNoticeReport, listNoticeReports } from '../domain/notices';
import { collectOverview, collectWeeklySummary } from '../domain/overview';
import { type Action, authorize, can } from '../domain/permissions';
import { checkTelegramLogin, consumeTelegramLogin, consumeWebLogin, checkWebLogin, endWebSession, findWebSession, isValidCsrf, setWebSessionLocale, TOKEN_PATTERN, type WebSessionState } from '../domain/web-auth';
import { checkOrganisation, createInvite, listStaff, revokeStaff } from '../domain/staff';
import { createOrganisationInvite, decideVerification, listVerified, withdrawOrganisation, withdrawVerification } from '../domain/verification';
import { type Translator } from '../i18n';
import { createDeepLink } from '../presentation/callback-data/deep-link';
import { describeError, type Logger } from '../logger';
import { PROJECT_ROOT } from '../util/project-root';
import { type ExportTable, needsTable, overviewTable, toCsv, toXlsx, weeklyTable } from './exports';
import { type Html, raw } from './html';
import { createView, statusBox, type View } from './view';
import { channelsPage } from './views/channels';
import { deskPage } from './views/desk';
import { moderationPage } from './views/moderation';
import { AGE_CHOICES, needPage, needsPage } from './views/needs';
import { type HelpersData, helpersPage } from './views/helpers';
import { auditPage, errorPage, loggedInPage, loginConfirmPage, loginHelpPage, noticePage, noticesPage } from './views/other';
import { overviewPage } from './views/overview';

/** What the web desk needs from the process: the same database, clock, city and translations as the bot. */
export interface WebDeps {
  db: Database;
  clock: Clock;
  city: CityDirectory;
  i18n: Translator;
  logger: Logger;
  config: Pick<Config, 'PUBLIC_URL' | 'WEB_SESSION_TTL' | 'WEB_LOGIN_TTL' | 'DEFAULT_LOCALE' | 'QUIET_HOURS' | 'HELPER_WEEKLY_CAP' | 'INVITE_TTL_HOURS' | 'ORG_INVITE_TTL' | 'BOT_TOKEN' | 'WEB_TELEGRAM_LOGIN'>;
  /** Nudges the delivery worker after an action queued messages (it also polls). */
  wake(): void;
  /** The bot's @username for invite links (t.me/<bot>?start=…); undefined until Telegram confirmed it. */
  botUsername(): string | undefined;
}

/** The biggest request body accepted (forms are small; anything bigger is refused with 413). */
export const WEB_BODY_LIMIT = 8 * 1024;
const SESSION_COOKIE = 'hn_web';
const LOGIN_COOKIE = 'hn_login';

type Env = { Variables: { auth: WebSessionState | null; locale: Locale; form: Record<string, string> } };
type Ctx = HonoContext<Env>;

const STYLE = readFileSync(path.join(PROJECT_ROOT, 'src', 'web', 'static', 'style.css'), 'utf8');

/** A database id in a path or a form. */
const id = z.string().regex(/^[1-9]\d{0,9}$/).transform(Number).pipe(z.number().max(2_147_483_647));
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** The needs filter from a query string; unknown values are refused (400), empty ones mean "all". */
function needsFilterSchema(city: CityDirectory) {
  return z.object({
    district: optional(z.string().refine((d) => city.isArea(d))),
    category: optional(z.string().refine((c) => city.isCategory(c))),
    status: optional(z.enum(POST_STATUSES)),
    age: optional(z.enum(AGE_CHOICES.map(String) as [string, ...string[]]).transform(Number)),
    level: optional(z.enum(ESCALATION_LEVELS)),
    source: optional(z.enum(NEED_SOURCES)),
    page: optional(id),
    texts: optional(z.literal('1')),
    format: optional(z.enum(['csv', 'xlsx'])),
  });
}

/** The Login Widget's fields (id, first_name, last_name, username, photo_url, auth_date, hash, and any Telegram adds). */
const telegramLoginQuery = z
  .record(z.string().regex(/^[a-z_]{1,32}$/), z.string().max(1000))
  .refine((q) => Object.keys(q).length <= 12 && q.hash !== undefined && q.auth_date !== undefined);

const auditQuery = z.object({
  action: optional(z.string().regex(/^[a-z_]{1,30}\.([a-z_.]{0,40})$/)),
  from: optional(z.iso.date()),
  to: optional(z.iso.date()),
  page: optional(id),
});

const DONE = ['taken', 'takenAgain', 'referred', 'broadcast', 'closed', 'dismissed', 'removed', 'warned', 'banned', 'unbanned', 'verified', 'declined', 'withdrawn', 'orgWithdrawn', 'staffRevoked'] as const;
const doneQuery = z.object({ done: optional(z.enum(DONE)), n: optional(id) });

const deskForm = z.object({ _csrf: z.string(), action: z.enum(['take', 'refer', 'referclose', 'all', 'close']), reason: optional(z.enum(DESK_CLOSE_REASONS)) }).strict();
const moderationForm = z.object({ _csrf: z.string(), action: z.enum(['dismiss', 'remove', 'warn', 'ban']), reason: optional(z.enum(REPORT_REASONS)) }).strict();
const csrfOnly = z.object({ _csrf: z.string() }).strict();
/** Irreversible actions carry a ticked "yes, really" box. */
const confirmed = z.object({ _csrf: z.string(), confirm: z.literal('1') }).strict();
const verificationForm = z.union([
  z.object({ _csrf: z.string(), action: z.enum(['verify', 'decline']) }).strict(),
  z.object({ _csrf: z.string(), action: z.literal('withdraw'), confirm: z.literal('1') }).strict(),
]);
/** The organisation of a new link; its rules (2–80 printable characters) are the domain's checkOrganisation. */
const linkForm = z.object({ _csrf: z.string(), organisation: z.string().max(200) }).strict();
const langForm = z.object({ _csrf: z.string(), lang: z.enum(LOCALES), back: z.string().max(500).regex(/^\/web(\/[A-Za-z0-9_\-./]*)?(\?[A-Za-z0-9_\-.=&%]*)?$/) }).strict();

/** The language for this request: the switcher's choice, the person's language in the bot, the browser's, the default. */
function pickLocale(c: Ctx, auth: WebSessionState | null, fallback: Locale): Locale {
  const isLocale = (v: unknown): v is Locale => (LOCALES as readonly unknown[]).includes(v);
  const query = c.req.query('lang');
  if (!auth && isLocale(query)) return query;
  if (auth?.session.locale && isLocale(auth.session.locale)) return auth.session.locale;
  if (auth && isLocale(auth.user.locale)) return auth.user.locale;
  const accepted = (c.req.header('accept-language') ?? '')
    .split(',')
    .map((p) => p.trim().slice(0, 2).toLowerCase())
    .find(isLocale);
  return accepted ?? fallback;
}

/**
 * The web desk: a Hono app mounted at /web on the bot's HTTP server. Server-rendered HTML without
 * scripts; every page asks the domain's authorize(); every POST carries the session's CSRF token.
 */
export function createWebApp(deps: WebDeps): Hono<Env> {
  const { db, clock, city, i18n, logger, config } = deps;
  const secure = config.PUBLIC_URL?.startsWith('https://') ?? false;
  const app = new Hono<Env>({ strict: false }).basePath('/web');

  const view = (c: Ctx): View => {
    const auth = c.get('auth');
    const url = new URL(c.req.url);
    return createView(i18n, c.get('locale'), city, clock.now(), url.pathname + url.search, auth ? { user: auth.user, actor: auth.actor, csrf: auth.session.csrfToken } : undefined);
  };
  const render = (c: Ctx, body: Html, status: 200 | 400 | 403 | 404 | 409 | 410 | 413 | 415 | 500 = 200) => c.html(body.toString(), status);
  const refuse = (c: Ctx, status: 400 | 403 | 404 | 409 | 410 | 413 | 415 | 500, key: string, params: Record<string, unknown> = {}) => {
    const v = view(c);
    return render(c, errorPage(v, v.t(`errors.${status}`), raw(i18n.t(v.locale, key, params))), status);
  };

  // Only the login page, and only with WEB_TELEGRAM_LOGIN, may load Telegram's widget (a script from
  // telegram.org that opens a frame of oauth.telegram.org); runs after secureHeaders has set the strict policy.
  app.use('/login', async (c, next) => {
    await next();
    if (config.WEB_TELEGRAM_LOGIN && c.req.method === 'GET' && c.res.status === 200) {
      const csp = c.res.headers.get('content-security-policy') ?? '';
      c.res.headers.set('content-security-policy', `${csp}; script-src https://telegram.org; frame-src https://oauth.telegram.org`);
    }
  });
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
      strictTransportSecurity: secure ? 'max-age=31536000' : false,
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: WEB_BODY_LIMIT,
      onError: (c) => refuse(c as unknown as Ctx, 413, 'web.errors.tooLarge'),
    }),
  );

  // Who is asking (read afresh on every request: a revoked role or a ban ends the session at once).
  const loadSession: MiddlewareHandler<Env> = async (c, next) => {
    const auth = await findWebSession(db, clock, getCookie(c, SESSION_COOKIE));
    c.set('auth', auth);
    c.set('locale', pickLocale(c, auth, config.DEFAULT_LOCALE));
    await next();
  };
  app.use('*', loadSession);

  // Every POST: a small urlencoded form, flat (no nesting), with the CSRF token of the session (or, for
  // the login button, of the login cookie).
  const checkForm: MiddlewareHandler<Env> = async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return refuse(c, 415, 'web.errors.badForm');
    const body = await c.req.parseBody();
    const form: Record<string, string> = {};
    for (const [key, value] of Object.entries(body)) {
      if (typeof value !== 'string' || key.length > 40 || value.length > 2000) return refuse(c, 400, 'web.errors.badForm');
      form[key] = value;
    }
    c.set('form', form);
    const isLogin = /^\/web\/login\/[^/]+$/.test(c.req.path);
    const auth = c.get('auth');
    if (isLogin) {
      const expected = getCookie(c, LOGIN_COOKIE);
      const given = form._csrf;
      if (!expected || !given || expected.length !== given.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(given))) return refuse(c, 403, 'web.errors.csrf');
    } else if (!auth) {
      return refuse(c, 403, 'web.errors.sessionEnded');
    } else if (!isValidCsrf(auth.session, form._csrf)) {
      return refuse(c, 403, 'web.errors.csrf');
    }
    return next();
  };
  app.use('*', checkForm);

  app.onError((err, c) => {
    if (err instanceof DomainError) return refuse(c, 409, err.key, err.params);
    logger.error({ err: describeError(err, { stack: true }), path: c.req.path }, 'web request failed');
    return refuse(c, 500, 'web.errors.generic');
  });
  app.notFound((c) => refuse(c, 404, 'web.errors.notFound'));

  /**
   * The gate of a page: without a session, to the login page (a cookie whose session ended is removed);
   * without the permission, 403 with the domain's refusal. Returns the session when allowed.
   */
  const gate = (c: Ctx, action: Action): WebSessionState | Response => {
    const auth = c.get('auth');
    if (!auth) {
      const hadCookie = getCookie(c, SESSION_COOKIE) !== undefined;
      if (hadCookie) deleteCookie(c, SESSION_COOKIE, { path: '/web', secure });
      if (c.req.method === 'GET') return c.redirect(hadCookie ? '/web/login?ended=1' : '/web/login', 303);
      return refuse(c, 403, 'web.errors.sessionEnded');
    }
    if (!can(auth.actor, action)) {
      try {
        authorize(auth.actor, action);
      } catch (err) {
        if (err instanceof DomainError) return refuse(c, 403, err.key, err.params);
        throw err;
      }
    }
    return auth;
  };
  /** A domain refusal as the error box at the top of the page the action came from. */
  const refusalBox = (c: Ctx, err: DomainError): Html => statusBox('error', raw(i18n.t(c.get('locale'), err.key, err.params)));
  const done = (c: Ctx): Html | undefined => {
    const q = doneQuery.safeParse(c.req.query());
    if (!q.success || !q.data.done) return undefined;
    return statusBox('ok', view(c).t(`done.${q.data.done}`, { n: q.data.n ?? 0 }));
  };

  app.get('/static/style.css', (c) => c.body(STYLE, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }));

  app.get('/', (c) => c.redirect(c.get('auth') ? '/web/overview' : '/web/login', 303));

  // ---------------------------------------------------------------- login and logout
  app.get('/login', (c) => {
    if (c.get('auth')) return c.redirect('/web/overview', 303);
    const reason = c.req.query('ended') ? 'ended' : c.req.query('bye') ? 'loggedOut' : undefined;
    const username = deps.botUsername();
    const widget = config.WEB_TELEGRAM_LOGIN && username ? { botUsername: username, authUrl: `${config.PUBLIC_URL}/web/login/telegram` } : undefined;
    return render(c, loginHelpPage(view(c), reason, widget));
  });

  // Telegram's Login Widget sends the browser here with the signed fields in the query.
  app.get('/login/telegram', async (c) => {
    if (!config.WEB_TELEGRAM_LOGIN) return refuse(c, 404, 'web.errors.notFound');
    const fields = telegramLoginQuery.safeParse(c.req.query());
    const telegramId = fields.success ? checkTelegramLogin(fields.data, config.BOT_TOKEN, clock.now()) : null;
    if (!fields.success || telegramId === null) return refuse(c, 403, 'web.login.telegramInvalid');
    let session;
    try {
      session = await consumeTelegramLogin(db, clock, telegramId, fields.data.hash!, new Date(Number(fields.data.auth_date) * 1000), config.WEB_SESSION_TTL);
    } catch (err) {
      if (err instanceof DomainError) return refuse(c, err.key === 'web.login.used' ? 410 : 403, err.key === 'web.login.used' ? 'web.login.telegramUsed' : err.key);
      throw err;
    }
    setCookie(c, SESSION_COOKIE, session.token, { path: '/web', httpOnly: true, sameSite: 'Strict', secure, maxAge: Math.round(config.WEB_SESSION_TTL / 1000) });
    logger.info({ userId: session.user.id }, 'web login (telegram widget)');
    return render(c, loggedInPage(view(c)));
  });

  app.get('/login/:token', async (c) => {
    const token = c.req.param('token');
    const state = await checkWebLogin(db, clock, token);
    if (state !== 'valid') return refuse(c, state === 'unknown' ? 404 : 410, `web.login.${state === 'unknown' ? 'invalid' : state}`);
    const csrf = randomBytes(32).toString('base64url');
    setCookie(c, LOGIN_COOKIE, csrf, { path: '/web/login', httpOnly: true, sameSite: 'Strict', secure, maxAge: Math.round(config.WEB_LOGIN_TTL / 1000) });
    return render(c, loginConfirmPage(view(c), token, csrf));
  });

  app.post('/login/:token', async (c) => {
    const token = c.req.param('token');
    if (!TOKEN_PATTERN.test(token)) return refuse(c, 404, 'web.login.invalid');
    let session;
    try {
      session = await consumeWebLogin(db, clock, token, config.WEB_SESSION_TTL);
    } catch (err) {
      if (err instanceof DomainError) return refuse(c, err.key === 'web.login.forbidden' ? 403 : err.key === 'web.login.invalid' ? 404 : 410, err.key);
      throw err;
    }
    deleteCookie(c, LOGIN_COOKIE, { path: '/web/login', secure });
    setCookie(c, SESSION_COOKIE, session.token, { path: '/web', httpOnly: true, sameSite: 'Strict', secure, maxAge: Math.round(config.WEB_SESSION_TTL / 1000) });
    logger.info({ userId: session.user.id }, 'web login');
    return c.redirect('/web/overview', 303);
  });

  app.post('/logout', async (c) => {
    const auth = c.get('auth');
    if (!csrfOnly.safeParse(c.get('form')).success) return refuse(c, 400, 'web.errors.badForm');
    if (auth) await endWebSession(db, clock, auth.session.id);
    deleteCookie(c, SESSION_COOKIE, { path: '/web', secure });
    return c.redirect('/web/login?bye=1', 303);
  });

  app.post('/lang', async (c) => {
    const auth = gate(c, 'web.login');
    if (auth instanceof Response) return auth;
    const form = langForm.safeParse(c.get('form'));
    if (!form.success) return refuse(c, 400, 'web.errors.badForm');
    await setWebSessionLocale(db, auth.session.id, form.data.lang);
    return c.redirect(form.data.back, 303);
  });

  // ---------------------------------------------------------------- pages
  app.get('/overview', async (c) => {
    const auth = gate(c, 'stats.view');
    if (auth instanceof Response) return auth;
    const overview = await collectOverview(db, clock, auth.actor, city);
    return render(c, overviewPage(view(c), overview, done(c)));
  });

  const needsQuery = needsFilterSchema(city);
  const toFilter = (q: z.output<typeof needsQuery>): NeedsFilter => ({
    district: q.district,
    category: q.category,
    status: q.status,
    minAgeHours: q.age,
    level: q.level,
    source: q.source,
    page: q.page,
  });

  app.get('/needs', async (c) => {
    const auth = gate(c, 'needs.view');
    if (auth instanceof Response) return auth;
    const q = needsQuery.safeParse(c.req.query());
    if (!q.success) return refuse(c, 400, 'web.errors.badQuery');
    const filter = toFilter(q.data);
    const { items, total } = await listNeeds(db, clock, auth.actor, filter);
    if (total > 0 && (filter.page ?? 1) > Math.ceil(total / NEEDS_PAGE_SIZE)) return refuse(c, 404, 'web.errors.notFound');
    return render(c, needsPage(view(c), filter, items, total));
  });

  app.get('/needs/:id', async (c) => {
    const auth = gate(c, 'needs.view');
    if (auth instanceof Response) return auth;
    const postId = id.safeParse(c.req.param('id'));
    if (!postId.success) return refuse(c, 404, 'web.errors.notFound');
    try {
      return render(c, needPage(view(c), await needHistory(db, clock, auth.actor, postId.data)));
    } catch (err) {
      if (err instanceof DomainError && err.key === 'web.errors.notFound') return refuse(c, 404, err.key);
      throw err;
    }
  });

  // ---------------------------------------------------------------- the desk (same domain functions as /desk)
  const showDesk = async (c: Ctx, auth: WebSessionState, status?: Html, code: 200 | 409 = 200) => render(c, deskPage(view(c), await listDesk(db, auth.actor), status), code);

  app.get('/desk', async (c) => {
    const auth = gate(c, 'desk.work');
    if (auth instanceof Response) return auth;
    return showDesk(c, auth, done(c));
  });

  app.post('/desk/:id', async (c) => {
    const auth = gate(c, 'desk.work');
    if (auth instanceof Response) return auth;
    const postId = id.safeParse(c.req.param('id'));
    const form = deskForm.safeParse(c.get('form'));
    if (!postId.success || !form.success || (form.data.action === 'close' && !form.data.reason)) return refuse(c, 400, 'web.errors.badForm');
    // With the city's protected categories: "to everyone" reaches verified helpers only there.
    const routing = routingContext(config, clock, city);
    let result: { done: (typeof DONE)[number]; n?: number };
    try {
      switch (form.data.action) {
        case 'take': {
          const { requested } = await takeDeskItem(db, clock, auth.user, postId.data);
          result = { done: requested ? 'taken' : 'takenAgain' };
          break;
        }
        case 'refer':
        case 'referclose':
          await referToOffice(db, clock, auth.actor, postId.data, { close: form.data.action === 'referclose', hasOffice: (cat) => city.office(cat) !== undefined });
          result = { done: 'referred' };
          break;
        case 'all':
          result = { done: 'broadcast', n: await broadcastDeskItem(db, routing, auth.actor, postId.data) };
          break;
        case 'close':
          await closeDeskItem(db, clock, auth.actor, postId.data, form.data.reason!);
          result = { done: 'closed' };
          break;
      }
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return showDesk(c, auth, refusalBox(c, err), 409);
    }
    deps.wake();
    return c.redirect(`/web/desk?done=${result.done}${result.n !== undefined ? `&n=${result.n}` : ''}`, 303);
  });

  // ---------------------------------------------------------------- moderation (same domain functions as /moderation)
  const showModeration = async (c: Ctx, auth: WebSessionState, status?: Html, code: 200 | 409 = 200) => {
    const [reports, banned] = await Promise.all([listOpenReports(db, auth.actor), can(auth.actor, 'moderation.ban') ? listBanned(db, auth.actor) : []]);
    return render(c, moderationPage(view(c), reports, banned, status), code);
  };

  app.get('/moderation', async (c) => {
    const auth = gate(c, 'moderation.review');
    if (auth instanceof Response) return auth;
    return showModeration(c, auth, done(c));
  });

  app.post('/moderation/:id', async (c) => {
    const auth = gate(c, 'moderation.review');
    if (auth instanceof Response) return auth;
    const reportId = id.safeParse(c.req.param('id'));
    const form = moderationForm.safeParse(c.get('form'));
    if (!reportId.success || !form.success || (form.data.action === 'ban' && !form.data.reason)) return refuse(c, 400, 'web.errors.badForm');
    let result: (typeof DONE)[number];
    try {
      switch (form.data.action) {
        case 'dismiss':
          await dismissReport(db, clock, auth.actor, reportId.data);
          result = 'dismissed';
          break;
        case 'remove':
          await removeReportedPost(db, clock, auth.actor, reportId.data);
          result = 'removed';
          break;
        case 'warn':
          await warnReportedUser(db, clock, auth.actor, reportId.data);
          result = 'warned';
          break;
        case 'ban': {
          const report = await findReport(db, auth.actor, reportId.data);
          if (!report) throw new DomainError('moderation.errors.notFound');
          if (report.status !== 'open') throw new DomainError('moderation.errors.alreadyHandled');
          if (!report.targetUserId) throw new DomainError('moderation.errors.noAuthor');
          await banUser(db, clock, auth.actor, report.targetUserId, form.data.reason!, reportId.data);
          result = 'banned';
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return showModeration(c, auth, refusalBox(c, err), 409);
    }
    deps.wake();
    return c.redirect(`/web/moderation?done=${result}`, 303);
  });

  app.post('/users/:id/unban', async (c) => {
    const auth = gate(c, 'moderation.ban');
    if (auth instanceof Response) return auth;
    const userId = id.safeParse(c.req.param('id'));
    if (!userId.success || !csrfOnly.safeParse(c.get('form')).success) return refuse(c, 400, 'web.errors.badForm');
    try {
      await unbanUser(db, clock, auth.actor, userId.data);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return showModeration(c, auth, refusalBox(c, err), 409);
    }
    deps.wake();
    return c.redirect('/web/moderation?done=unbanned', 303);
  });

  // ---------------------------------------------------------------- notices, audit, helpers
  app.get('/notices', async (c) => {
    const auth = gate(c, 'notices.view');
    if (auth instanceof Response) return auth;
    return render(c, noticesPage(view(c), await listNoticeReports(db, auth.actor)));
  });

  app.get('/notices/:id', async (c) => {
    const auth = gate(c, 'notices.view');
    if (auth instanceof Response) return auth;
    const noticeId = id.safeParse(c.req.param('id'));
    if (!noticeId.success) return refuse(c, 404, 'web.errors.notFound');
    try {
      return render(c, noticePage(view(c), await findNoticeReport(db, auth.actor, noticeId.data)));
    } catch (err) {
      if (err instanceof DomainError && err.key === 'notices.errors.notFound') return refuse(c, 404, 'web.errors.notFound');
      throw err;
    }
  });

  app.get('/audit', async (c) => {
    const auth = gate(c, 'audit.view');
    if (auth instanceof Response) return auth;
    const q = auditQuery.safeParse(c.req.query());
    if (!q.success) return refuse(c, 400, 'web.errors.badQuery');
    const { action, from, to } = q.data;
    const pageNo = q.data.page ?? 1;
    const [{ entries, total }, actions] = await Promise.all([
      listAudit(db, auth.actor, { action, from: from ? new Date(`${from}T00:00:00Z`) : undefined, to: to ? new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000) : undefined, page: pageNo }),
      auditActions(db, auth.actor),
    ]);
    return render(c, auditPage(view(c), entries, total, actions, { action, from, to, page: pageNo }, Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE))));
  });

  // ---------------------------------------------------------------- the city's channels and groups (read-only; /channels in the bot changes them)
  app.get('/channels', async (c) => {
    const auth = gate(c, 'channels.manage');
    if (auth instanceof Response) return auth;
    return render(c, channelsPage(view(c), await summarizeChannels(db, auth.actor)));
  });

  // ---------------------------------------------------------------- helpers and organisations (same domain functions as /verified and /staff)
  const showHelpers = async (c: Ctx, auth: WebSessionState, extra: { status?: Html; created?: HelpersData['created'] } = {}, code: 200 | 409 = 200) => {
    const [load, verified, staff] = await Promise.all([
      collectHelperLoad(db, clock, auth.actor, config.HELPER_WEEKLY_CAP),
      can(auth.actor, 'verification.review') ? listVerified(db, clock, auth.actor) : undefined,
      can(auth.actor, 'staff.list') ? listStaff(db, auth.actor) : undefined,
    ]);
    return render(c, helpersPage(view(c), { load, weeklyCap: config.HELPER_WEEKLY_CAP, verified, staff, created: extra.created }, extra.status), code);
  };
  /** Runs a helpers-page action; a domain refusal shows the page again with the reason (409). */
  const helpersAction = async (c: Ctx, auth: WebSessionState, act: () => Promise<string>) => {
    let target: string;
    try {
      target = await act();
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return showHelpers(c, auth, { status: refusalBox(c, err) }, 409);
    }
    deps.wake();
    return c.redirect(target, 303);
  };

  app.get('/helpers', async (c) => {
    const auth = gate(c, 'helpers.view');
    if (auth instanceof Response) return auth;
    return showHelpers(c, auth, { status: done(c) });
  });

  app.post('/verification/:id', async (c) => {
    const auth = gate(c, 'verification.review');
    if (auth instanceof Response) return auth;
    const userId = id.safeParse(c.req.param('id'));
    const form = verificationForm.safeParse(c.get('form'));
    if (!userId.success || !form.success) return refuse(c, 400, 'web.errors.badForm');
    const action = form.data.action;
    return helpersAction(c, auth, async () => {
      if (action === 'withdraw') await withdrawVerification(db, clock, auth.actor, userId.data);
      else await decideVerification(db, clock, auth.actor, userId.data, action);
      return `/web/helpers?done=${action === 'verify' ? 'verified' : action === 'decline' ? 'declined' : 'withdrawn'}#verification`;
    });
  });

  app.post('/organisations/:id/withdraw', async (c) => {
    const auth = gate(c, 'verification.review');
    if (auth instanceof Response) return auth;
    const organisationId = id.safeParse(c.req.param('id'));
    if (!organisationId.success || !confirmed.safeParse(c.get('form')).success) return refuse(c, 400, 'web.errors.badForm');
    return helpersAction(c, auth, async () => {
      const { lost } = await withdrawOrganisation(db, clock, auth.actor, organisationId.data);
      return `/web/helpers?done=orgWithdrawn&n=${lost}#organisations`;
    });
  });

  app.post('/staff/:id/revoke', async (c) => {
    const auth = gate(c, 'staff.revoke');
    if (auth instanceof Response) return auth;
    const userId = id.safeParse(c.req.param('id'));
    if (!userId.success || !confirmed.safeParse(c.get('form')).success) return refuse(c, 400, 'web.errors.badForm');
    return helpersAction(c, auth, async () => {
      await revokeStaff(db, clock, auth.actor, userId.data);
      return '/web/helpers?done=staffRevoked#staff';
    });
  });

  /**
   * A new invite link (staff of an organisation, or an organisation's verified helpers): shown once on
   * the page, as the bot shows it once in the chat (only its hash is stored).
   */
  const createLink = async (c: Ctx, kind: 'staff' | 'organisation') => {
    const auth = gate(c, kind === 'staff' ? 'staff.invite' : 'verification.invite');
    if (auth instanceof Response) return auth;
    const form = linkForm.safeParse(c.get('form'));
    if (!form.success) return refuse(c, 400, 'web.errors.badForm');
    const username = deps.botUsername();
    if (!username) return refuse(c, 409, 'web.errors.notReady');
    let created: { code: string; expiresAt: Date; organisation: string };
    try {
      created =
        kind === 'staff'
          ? { ...(await createInvite(db, clock, auth.actor, form.data.organisation, config.INVITE_TTL_HOURS)), organisation: checkOrganisation(form.data.organisation)! }
          : await createOrganisationInvite(db, clock, auth.actor, form.data.organisation, config.ORG_INVITE_TTL).then((r) => ({ ...r, organisation: r.organisation.name }));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return showHelpers(c, auth, { status: refusalBox(c, err) }, 409);
    }
    const link = createDeepLink(username, `${kind === 'staff' ? 'staff' : 'org'}_${created.code}`);
    return showHelpers(c, auth, { created: { kind, organisation: created.organisation, link, expiresAt: created.expiresAt } });
  };
  app.post('/staff/invite', (c) => createLink(c, 'staff'));
  app.post('/organisations/invite', (c) => createLink(c, 'organisation'));

  // ---------------------------------------------------------------- exports
  const send = async (c: Ctx, table: ExportTable, base: string, format: 'csv' | 'xlsx') => {
    const day = new Intl.DateTimeFormat('sv-SE', { timeZone: city.timezone }).format(clock.now());
    const body = format === 'csv' ? toCsv(table) : await toXlsx(table);
    const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return c.body(new Uint8Array(body), 200, { 'content-type': type, 'content-disposition': `attachment; filename="${base}-${day}.${format}"` });
  };
  const format = (c: Ctx) => (c.req.param('file') ?? '').split('.')[1] as 'csv' | 'xlsx';

  app.get('/export/:file{(overview|needs|weekly)\\.(csv|xlsx)}', async (c) => {
    const file = c.req.param('file');
    const [base] = file.split('.') as ['overview' | 'needs' | 'weekly'];
    const auth = gate(c, base === 'needs' ? 'needs.view' : 'stats.export');
    if (auth instanceof Response) return auth;
    if (base === 'needs') {
      const exportAuth = gate(c, 'stats.export');
      if (exportAuth instanceof Response) return exportAuth;
      const q = needsQuery.safeParse(c.req.query());
      if (!q.success) return refuse(c, 400, 'web.errors.badQuery');
      const { items } = await listNeeds(db, clock, auth.actor, { ...toFilter(q.data), page: undefined }, { limit: NEEDS_EXPORT_LIMIT });
      return send(c, needsTable(view(c), items, q.data.texts === '1'), 'hilfenetz-needs', format(c));
    }
    if (base === 'overview') return send(c, overviewTable(view(c), await collectOverview(db, clock, auth.actor, city)), 'hilfenetz-overview', format(c));
    return send(c, weeklyTable(view(c), await collectWeeklySummary(db, clock, auth.actor, city)), 'hilfenetz-weekly', format(c));
  });

  return app;
}
