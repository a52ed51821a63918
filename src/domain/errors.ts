/**
 * A refusal the user should understand: `key` is the locale key that explains what to do instead.
 * Thrown inside a transaction it rolls everything back; the bot's error boundary shows it to the user
 * (as an alert for a button, as a message otherwise).
 */
export class DomainError extends Error {
  constructor(
    readonly key: string,
    readonly params: Record<string, unknown> = {},
  ) {
    super(key);
    this.name = 'DomainError';
  }
}
