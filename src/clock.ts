/** Time is injected so that tests move it instead of waiting, and SQL never calls now() itself. */
export interface Clock {
  now(): Date;
}

/** The real clock used in production. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-03-02T10:00:00+01:00') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
  advanceHours(hours: number): void {
    this.advance(hours * 3_600_000);
  }
  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }
}
