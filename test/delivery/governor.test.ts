import { RateGovernor, type SendTicket } from '../../src/delivery/governor';

/**
 * Drives a governor on a simulated clock like the worker does: wait as told (every timer firing `lateMs`
 * late, an answer waking the sender early when the in-flight bound is reached), dispatch, and answer each
 * request after `rttMs(i)`. Returns the dispatch times.
 */
function simulate(options: { rate: number; seconds: number; lateMs: number; rttMs?: (i: number) => number }): number[] {
  let now = 0;
  const end = options.seconds * 1000;
  const governor = new RateGovernor({ rate: options.rate, perChatIntervalMs: 1000, maxInFlight: Math.ceil(options.rate * 0.3), now: () => now });
  const pending: { at: number; ticket: SendTicket }[] = [];
  /** Moves the clock to `until`, answering requests at their own times on the way. */
  const advance = (until: number) => {
    pending.sort((a, b) => a.at - b.at);
    while (pending.length > 0 && pending[0]!.at <= until) {
      const next = pending.shift()!;
      now = Math.max(now, next.at);
      governor.completed(next.ticket);
    }
    now = Math.max(now, until);
  };
  const times: number[] = [];
  for (let chat = 1; now < end; chat++) {
    for (let wait = governor.globalWait(); wait > 0; wait = governor.globalWait()) {
      if (Number.isFinite(wait)) advance(now + wait + options.lateMs);
      else advance(Math.min(...pending.map((p) => p.at))); // the in-flight bound: the next answer wakes the sender
    }
    times.push(now);
    pending.push({ at: now + (options.rttMs?.(chat) ?? 50), ticket: governor.dispatched(chat) });
  }
  return times.filter((t) => t < end);
}

function busiestSecond(times: number[]): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe('rate governor', () => {
  it('keeps the rate although every timer fires a millisecond late', () => {
    const times = simulate({ rate: 300, seconds: 10, lateMs: 1 });
    expect(times.length).toBeGreaterThanOrEqual(0.97 * 300 * 10);
    expect(busiestSecond(times)).toBeLessThanOrEqual(300);
  });

  it('makes up a stall without exceeding the window', () => {
    // A stall of 40 ms (e.g. a claim) every 250 ms.
    let now = 0;
    const governor = new RateGovernor({ rate: 300, perChatIntervalMs: 1000, maxInFlight: 90, now: () => now });
    const times: number[] = [];
    for (let chat = 1; now < 10_000; chat++) {
      if (chat % 75 === 0) now += 40;
      let wait = governor.globalWait();
      while (wait > 0) {
        now += Number.isFinite(wait) ? wait : 1;
        wait = governor.globalWait();
      }
      governor.completed(governor.dispatched(chat));
      times.push(now);
    }
    expect(times.filter((t) => t < 10_000).length).toBeGreaterThanOrEqual(0.97 * 3000);
    expect(busiestSecond(times)).toBeLessThanOrEqual(300);
  });

  it('keeps a send that was answered late in the window for that much longer', () => {
    // 10/s: one send every 101.5 ms (the window of 1,015 ms evenly), each answered after 50 ms …
    const usual = simulate({ rate: 10, seconds: 2, lateMs: 0 });
    expect(usual[10]).toBeCloseTo(1_015, 6);
    // … except the first, answered after 300 ms: it may have been counted 250 ms later than it left.
    // Half the margin (7.5 ms) is ordinary jitter; the rest moves it in the window.
    const late = simulate({ rate: 10, seconds: 2, lateMs: 0, rttMs: (i) => (i === 1 ? 300 : 50) });
    expect(late[10]).toBeCloseTo(1_015 + 250 - 7.5, 6);
    expect(busiestSecond(late)).toBeLessThanOrEqual(10);
  });
});
