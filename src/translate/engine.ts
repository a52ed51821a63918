import { type Clock, systemClock } from '../clock';
import type { Logger } from '../logger';
import type { SourceLanguage } from './detect';

/** Why a translation could not be had; the job retries later, delivery goes on with the original. */
export class TranslationError extends Error {
  constructor(
    message: string,
    /** unavailable: network, timeout, 5xx, refused; rejected: the answer was nonsense; circuit: not tried, the engine is known to be down. */
    readonly kind: 'unavailable' | 'rejected' | 'circuit',
  ) {
    super(message);
    this.name = 'TranslationError';
  }
}

/** What /healthz shows about the engine; never affects the status code. */
export interface EngineState {
  /** unknown until the first request, up, degraded (recent failures), down (circuit open). */
  state: 'unknown' | 'up' | 'degraded' | 'down';
  engine: string;
  circuit: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  lastOkAt: string | null;
  lastError: string | null;
}

/** Anything that translates one text (the LibreTranslate client; tests may wrap it). */
export interface TranslationEngine {
  /** Stored with every translation: which engine made it. */
  readonly name: string;
  translate(text: string, source: SourceLanguage, target: SourceLanguage): Promise<string>;
  /** False while the circuit is open: callers should not wait for a translation. */
  available(): boolean;
  state(): EngineState;
}

export interface LibreTranslateOptions {
  /** The server's base URL; requests go to `${url}/translate`. */
  url: string;
  apiKey?: string;
  /** Per request (TRANSLATE_TIMEOUT). */
  timeoutMs: number;
  /** Further tries after a network error, a timeout, a 429 or a 5xx (default 2). */
  retries?: number;
  /** First pause between tries, doubled each time (default 300 ms). */
  retryBaseMs?: number;
  /** Consecutive failed calls that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long the circuit stays open before one trial call (default 30 s). */
  cooldownMs?: number;
  clock?: Clock;
  logger?: Logger;
  fetch?: typeof fetch;
}

const HTML = /<\s*(!doctype|html|head|body|div|p|br|span|script|title|h\d)\b/i;
const CYRILLIC = /\p{Script=Cyrillic}/gu;
const LATIN = /\p{Script=Latin}/gu;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/**
 * Rejects answers that are no translation: empty, HTML (an error page or a proxy's login page), the text
 * unchanged, far too long, or in the wrong script or language (Russian letters in a "Ukrainian" answer).
 * Returns the reason, or null for an answer that looks right.
 */
export function rejectTranslation(source: string, answer: unknown, target: SourceLanguage): string | null {
  if (typeof answer !== 'string' || answer.trim() === '') return 'empty answer';
  if (HTML.test(answer) && !HTML.test(source)) return 'HTML instead of a translation';
  const normal = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
  if (normal(answer) === normal(source)) return 'the text came back unchanged';
  if ([...answer].length > [...source].length * 4 + 100) return 'answer far longer than the text';
  const cyrillic = count(answer, CYRILLIC);
  const latin = count(answer, LATIN);
  const letters = cyrillic + latin;
  if (letters > 0) {
    const wantCyrillic = target === 'uk' || target === 'ru';
    if ((wantCyrillic ? cyrillic : latin) / letters < 0.5) return `not in the ${wantCyrillic ? 'Cyrillic' : 'Latin'} script of ${target}`;
    if (target === 'uk' && /[ыэъё]/i.test(answer) && !/[іїєґ]/i.test(answer)) return 'Russian instead of Ukrainian';
    if (target === 'ru' && /[іїєґ]/i.test(answer) && !/[ыэъё]/i.test(answer)) return 'Ukrainian instead of Russian';
  }
  return null;
}

/**
 * A client for a LibreTranslate-compatible API (`POST /translate` with q, source, target, format, api_key):
 * bounded timeouts, a few retries with backoff for what may pass (network, timeout, 429, 5xx), a circuit
 * breaker so that a dead engine costs nothing while it is dead, and rejection of answers that are no
 * translation. Logs never contain texts.
 */
export class LibreTranslateEngine implements TranslationEngine {
  readonly name: string;
  private readonly o: Required<Omit<LibreTranslateOptions, 'apiKey' | 'logger'>> & Pick<LibreTranslateOptions, 'apiKey' | 'logger'>;
  private failures = 0;
  private openedAt: number | null = null;
  private trialRunning = false;
  private lastOkAt: Date | null = null;
  private lastError: string | null = null;
  private called = false;

  constructor(options: LibreTranslateOptions) {
    this.o = { retries: 2, retryBaseMs: 300, failureThreshold: 5, cooldownMs: 30_000, clock: systemClock, fetch: globalThis.fetch, ...options };
    this.name = `libretranslate@${new URL(options.url).host}`;
  }

  available(): boolean {
    return this.circuit() === 'closed' || (this.circuit() === 'half-open' && !this.trialRunning);
  }

  state(): EngineState {
    const circuit = this.circuit();
    return {
      state: !this.called ? 'unknown' : circuit !== 'closed' ? 'down' : this.failures > 0 ? 'degraded' : 'up',
      engine: this.name,
      circuit,
      consecutiveFailures: this.failures,
      lastOkAt: this.lastOkAt?.toISOString() ?? null,
      lastError: this.lastError,
    };
  }

  async translate(text: string, source: SourceLanguage, target: SourceLanguage): Promise<string> {
    const circuit = this.circuit();
    if (circuit === 'open' || (circuit === 'half-open' && this.trialRunning)) {
      throw new TranslationError('translation engine unavailable (circuit open)', 'circuit');
    }
    const trial = circuit === 'half-open';
    if (trial) this.trialRunning = true;
    this.called = true;
    try {
      const answer = await this.requestWithRetries(text, source, target);
      const rejected = rejectTranslation(text, answer, target);
      if (rejected) throw new TranslationError(`engine answer rejected: ${rejected}`, 'rejected');
      this.failures = 0;
      this.openedAt = null;
      this.lastOkAt = this.o.clock.now();
      return answer.trim();
    } catch (err) {
      const failure = err instanceof TranslationError ? err : new TranslationError(`translation failed: ${String(err)}`, 'unavailable');
      this.failures++;
      this.lastError = failure.message;
      if (trial || this.failures >= this.o.failureThreshold) {
        if (this.openedAt === null || trial) this.o.logger?.warn({ engine: this.name, failures: this.failures, cooldownMs: this.o.cooldownMs }, 'translation engine failing: circuit open');
        this.openedAt = this.o.clock.now().getTime();
      }
      throw failure;
    } finally {
      if (trial) this.trialRunning = false;
    }
  }

  private circuit(): EngineState['circuit'] {
    if (this.openedAt === null) return 'closed';
    return this.o.clock.now().getTime() - this.openedAt >= this.o.cooldownMs ? 'half-open' : 'open';
  }

  private async requestWithRetries(text: string, source: SourceLanguage, target: SourceLanguage): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(text, source, target);
      } catch (err) {
        const retryable = err instanceof RetryableFailure;
        if (!retryable || attempt >= this.o.retries) {
          throw err instanceof RetryableFailure ? new TranslationError(err.message, 'unavailable') : err;
        }
        await new Promise((resolve) => setTimeout(resolve, this.o.retryBaseMs * 2 ** attempt));
      }
    }
  }

  private async request(text: string, source: SourceLanguage, target: SourceLanguage): Promise<string> {
    const started = performance.now();
    let response: Response;
    try {
      response = await this.o.fetch(`${this.o.url}/translate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ q: text, source, target, format: 'text', ...(this.o.apiKey ? { api_key: this.o.apiKey } : {}) }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      // Checked by name: the abort arrives as a DOMException, which is not always an Error of this realm.
      const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
      const reason = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${this.o.timeoutMs} ms` : `network: ${err instanceof Error ? err.message : String(err)}`;
      throw new RetryableFailure(reason);
    }
    const body = await response.text().catch(() => '');
    if (response.status === 429 || response.status >= 500) throw new RetryableFailure(`engine answered ${response.status}`);
    if (!response.ok) throw new TranslationError(`engine refused the request (${response.status})`, 'unavailable');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new TranslationError(HTML.test(body) ? 'engine answer rejected: HTML instead of JSON' : 'engine answer rejected: not JSON', 'rejected');
    }
    const translated = typeof parsed === 'object' && parsed !== null ? (parsed as { translatedText?: unknown }).translatedText : undefined;
    if (typeof translated !== 'string') throw new TranslationError('engine answer rejected: no translatedText', 'rejected');
    this.o.logger?.debug({ engine: this.name, source, target, chars: [...text].length, ms: Math.round(performance.now() - started) }, 'translated');
    return translated;
  }
}

/** A failure worth another try within the same call (network, timeout, 429, 5xx). */
class RetryableFailure extends Error {}
