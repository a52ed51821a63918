import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A LibreTranslate API stand-in over real HTTP (`POST /translate`), started by the tests and benchmarks.
 * It translates by a fixed table (texts it does not know get a recognisable made-up translation in the
 * target's script), and it can be slow, fail with a status, drop connections, or answer garbage.
 */
export interface TranslateRequest {
  q: string;
  source: string;
  target: string;
  format?: string;
  api_key?: string;
}

export type Garbage = 'empty' | 'html' | 'same' | 'wrong-script' | 'not-json';

export class FakeTranslate {
  readonly requests: TranslateRequest[] = [];
  /** Added before each answer. */
  delayMs = 0;
  /** Answer every request with this status (e.g. 503) while set. */
  failStatus: number | null = null;
  /** Destroy the connection without an answer while set (a crashed engine). */
  dropConnections = false;
  garbage: Garbage | null = null;
  /** Requests for these target languages fail with 503 (the engine breaks down for one model). */
  readonly failTargets = new Set<string>();
  /** Required api_key, if any (403 otherwise, like LibreTranslate with keys). */
  apiKey: string | null = null;
  private readonly table = new Map<string, string>();
  private server?: Server;
  private failTimes = 0;

  constructor(entries: [text: string, translations: Partial<Record<'uk' | 'de' | 'ru' | 'en', string>>][] = []) {
    for (const [text, translations] of entries) {
      for (const [target, translated] of Object.entries(translations)) this.table.set(`${target}:${text}`, translated);
    }
  }

  /** Back to a healthy engine answering at once. */
  reset(): void {
    this.requests.length = 0;
    this.delayMs = 0;
    this.failStatus = null;
    this.failTimes = 0;
    this.dropConnections = false;
    this.garbage = null;
    this.apiKey = null;
    this.failTargets.clear();
  }

  /** The next `times` requests fail with `status`. */
  failNext(times: number, status = 503): void {
    this.failTimes = times;
    this.failStatus = status;
  }

  /** What a text becomes in `target`: from the table, or made up in the target's script. */
  translationOf(text: string, target: string): string {
    const known = this.table.get(`${target}:${text}`);
    if (known) return known;
    const tag = [...text].length;
    if (target === 'uk') return `Переклад тексту з ${tag} знаків`;
    if (target === 'ru') return `Перевод текста из ${tag} знаков`;
    if (target === 'de') return `Übersetzung eines Textes mit ${tag} Zeichen`;
    return `Translation of a text of ${tag} characters`;
  }

  /** Requests for one target language. */
  requestsFor(target: string): TranslateRequest[] {
    return this.requests.filter((r) => r.target === target);
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Longer than any test: an idle connection closed by the server while the client reuses it would fail a request at random.
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/translate') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not Found"}');
      return;
    }
    let body: TranslateRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TranslateRequest;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"Invalid request"}');
      return;
    }
    this.requests.push(body);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.dropConnections) {
      res.socket?.destroy();
      return;
    }
    if (this.failStatus !== null) {
      const status = this.failStatus;
      if (this.failTimes > 0 && --this.failTimes === 0) this.failStatus = null;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Slowdown: engine overloaded' }));
      return;
    }
    if (this.failTargets.has(body.target)) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"model not loaded"}');
      return;
    }
    if (this.apiKey !== null && body.api_key !== this.apiKey) {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"Invalid API key"}');
      return;
    }
    if (typeof body.q !== 'string' || !body.source || !body.target) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"Invalid request: missing q, source or target"}');
      return;
    }
    switch (this.garbage) {
      case 'empty':
        return this.json(res, { translatedText: '' });
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body><h1>Please log in</h1></body></html>');
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"translatedText": "unterminated');
        return;
      case 'same':
        return this.json(res, { translatedText: body.q });
      case 'wrong-script':
        return this.json(res, { translatedText: body.target === 'de' || body.target === 'en' ? 'Просто якийсь текст' : 'Just some text' });
      default:
        return this.json(res, { translatedText: this.translationOf(body.q, body.target) });
    }
  }

  private json(res: ServerResponse, value: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  }
}
