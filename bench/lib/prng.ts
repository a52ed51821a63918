/**
 * A small seeded pseudo-random generator (xorshift32 with a final multiply), so that every run of a
 * benchmark publishes the same posts in the same order.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // xorshift has a fixed point at 0; any other 32-bit value is a fine start.
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** The next value in [0, 2^32). */
  nextUint32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return Math.imul(x, 0x2c1b3c6d) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.nextUint32() / 4_294_967_296) * n);
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)] as T;
  }
}
