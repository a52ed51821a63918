/** A comma-separated list of positive integers from a command-line flag (`10_000,100000`). */
export function positiveInts(value: string, flag: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim().replace(/_/g, '')));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--${flag} expects positive integers, got "${value}"`);
  return list;
}
