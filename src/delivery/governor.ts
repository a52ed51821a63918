/**
 * Paces sends for one process: at most `rate` sends in any window of one second (plus a margin, so that
 * Telegram never sees more than `rate` in its own window), at most one message per second to the same
 * chat, a bounded number of requests in flight, and a shared pause after a 429.
 *
 * A sliding window rather than a token bucket: a late timer must not let two sends slip into one second
 * that Telegram counts, and a 429 costs a whole second of the budget. A send whose answer took longer
 * than usual may have been counted that much later than it left, so it keeps its place in the window
 * for that much longer. Within the window, sends are spaced evenly rather than sent in bursts; only
 * lateness (a late timer, a claim in between) of up to `catchUpMs` is made up by sending sooner.
 */
export interface GovernorOptions {
  /** Messages per second this process may send (its share of BROADCAST_RATE). */
  rate: number;
  /** Milliseconds between two messages to the same chat (Telegram: about one per second). */
  perChatIntervalMs: number;
  /** Requests in flight at once; enough to reach the rate despite ~50–100 ms per call. */
  maxInFlight: number;
  /** Added to the one-second window to absorb differences in network latency. */
  windowMarginMs?: number;
  /** How much lateness of the even spacing (late timers, a claim in between) is made up at once. */
  catchUpMs?: number;
  now?: () => number;
}

/** One send in the window: when it counts (its dispatch, moved later if its answer came late). */
export interface SendTicket {
  at: number;
  readonly dispatchedAt: number;
  done: boolean;
}

/** Recent round trips kept to know the usual one (a low percentile, robust to a few fast errors). */
const RTT_SAMPLES = 128;

export class RateGovernor {
  private rate: number;
  private readonly perChatIntervalMs: number;
  private maxInFlight: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** The last `rate` sends, oldest first (a ring buffer). */
  private stamps: SendTicket[] = [];
  private head = 0;
  private readonly lastByChat = new Map<number, number>();
  private inFlight = 0;
  private pausedUntil = 0;
  /** When the next send is due by even spacing; advances one interval per send. */
  private nextSlot = -Infinity;
  private readonly catchUpMs: number;
  private readonly rtts: number[] = [];
  private rttIndex = 0;
  private usualRtt = Infinity;

  constructor(options: GovernorOptions) {
    this.rate = Math.max(1, Math.floor(options.rate));
    this.perChatIntervalMs = options.perChatIntervalMs;
    this.maxInFlight = Math.max(1, options.maxInFlight);
    this.windowMs = 1000 + (options.windowMarginMs ?? 15);
    this.catchUpMs = options.catchUpMs ?? 50;
    this.now = options.now ?? (() => performance.now());
  }

  /** Changes the share (another process joined or left); keeps the recent history. */
  setRate(rate: number, maxInFlight?: number): void {
    const next = Math.max(1, Math.floor(rate));
    if (next !== this.rate) {
      const ordered = [...this.stamps.slice(this.head), ...this.stamps.slice(0, this.head)];
      this.stamps = ordered.slice(-next);
      this.head = 0;
      this.rate = next;
    }
    if (maxInFlight !== undefined) this.maxInFlight = Math.max(1, maxInFlight);
  }

  get currentRate(): number {
    return this.rate;
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Everyone waits until then (a 429's retry_after, local or seen by another process). */
  pauseUntil(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
    // After the pause, even spacing again rather than a burst to make up for it.
    this.nextSlot = Math.max(this.nextSlot, until);
  }

  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  /** Milliseconds until the chat may receive its next message (0 = now). */
  chatWait(chatId: number): number {
    const last = this.lastByChat.get(chatId);
    if (last === undefined) return 0;
    return Math.max(0, last + this.perChatIntervalMs - this.now());
  }

  /**
   * Milliseconds until the next dispatch is allowed globally (0 = now). Accounts for the pause,
   * the window and the in-flight bound (Infinity while the bound is reached: wait for a completion).
   */
  globalWait(): number {
    const now = this.now();
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.inFlight >= this.maxInFlight) return Infinity;
    // Even spacing keeps few requests in flight at any moment: fewer messages whose fate is unknown if
    // the process dies. It follows a schedule rather than the last send, so that late timers (1 ms
    // granularity, a busy event loop, a claim in between) do not lower the rate.
    const gap = Math.max(0, this.nextSlot - now);
    if (this.stamps.length < this.rate) return gap;
    // A send still unanswered after its second counts when it left (it is very late, or lost).
    const oldest = this.stamps[this.head]!;
    return Math.max(gap, oldest.at + this.windowMs - now);
  }

  /**
   * Records a dispatch; call only when globalWait() and chatWait() are 0. Pass the ticket to answered()
   * when Telegram's answer arrives and to completed() when the request is done.
   */
  dispatched(chatId: number): SendTicket {
    const now = this.now();
    const ticket: SendTicket = { at: now, dispatchedAt: now, done: false };
    if (this.stamps.length < this.rate) {
      this.stamps.push(ticket);
    } else {
      this.stamps[this.head] = ticket;
      this.head = (this.head + 1) % this.rate;
    }
    this.lastByChat.set(chatId, now);
    // Up to catchUpMs of lateness is made up by sending the next ones sooner; the window still caps it.
    const from = this.nextSlot === -Infinity ? now : Math.max(this.nextSlot, now - this.catchUpMs);
    this.nextSlot = from + this.windowMs / this.rate;
    this.inFlight++;
    if (this.lastByChat.size > 50_000) this.forgetOldChats(now);
    return ticket;
  }

  /**
   * Records that Telegram answered (whatever the answer). A send answered later than usual may have been
   * counted up to that much later than it left: it stays in the window for that much longer.
   */
  answered(ticket: SendTicket): void {
    if (ticket.done) return;
    ticket.done = true;
    const rtt = this.now() - ticket.dispatchedAt;
    this.recordRtt(rtt);
    // Half the margin absorbs ordinary jitter (so the spacing stays even); a longer delay moves the send.
    ticket.at = ticket.dispatchedAt + Math.max(0, rtt - this.usualRtt - (this.windowMs - 1000) / 2);
  }

  /** Records that a request finished (whatever its outcome); counts as answered if it was not yet. */
  completed(ticket?: SendTicket): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (ticket) this.answered(ticket);
  }

  private recordRtt(rtt: number): void {
    if (this.rtts.length < RTT_SAMPLES) this.rtts.push(rtt);
    else this.rtts[this.rttIndex] = rtt;
    this.rttIndex = (this.rttIndex + 1) % RTT_SAMPLES;
    // The usual round trip: the 10th percentile of recent ones, recomputed every 16 answers.
    if (this.rtts.length < 16 || this.rttIndex % 16 === 0) {
      const sorted = [...this.rtts].sort((a, b) => a - b);
      this.usualRtt = sorted[Math.floor(sorted.length / 10)]!;
    }
  }

  private forgetOldChats(now: number): void {
    for (const [chat, at] of this.lastByChat) {
      if (now - at > this.perChatIntervalMs) this.lastByChat.delete(chat);
    }
  }
}
