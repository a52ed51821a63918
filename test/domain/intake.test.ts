import { checkedIntake, checkIntakeName, INTAKE_NAME_MAX } from '../../src/domain/intake';
import { DomainError } from '../../src/domain/errors';

describe('the name of a person a Lotse posts for', () => {
  it.each([
    ['Olena', 'Olena'],
    ['  Мар’яна   Д. ', 'Мар’яна Д.'],
    ["Мар'яна", "Мар'яна"],
    ['Дар`я'.replace('`', 'ʼ'), 'Дарʼя'],
    ['O. K.', 'O. K.'],
    ['O.K.', 'O.K.'],
    ['Anna-Lena', 'Anna-Lena'],
    ['Jürgen', 'Jürgen'],
    ['Юлія Ґ.', 'Юлія Ґ.'],
    ['Ё', 'Ё'],
    ['a'.repeat(INTAKE_NAME_MAX), 'a'.repeat(INTAKE_NAME_MAX)],
  ])('accepts a first name or initials: %j', (raw, tidied) => {
    expect(checkIntakeName(raw)).toBe(tidied);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'only spaces'],
    ['a'.repeat(INTAKE_NAME_MAX + 1), 'too long'],
    ['Olena 0176 1234567', 'a phone number'],
    ['Olena2', 'a digit'],
    ['+49 203 123', 'a phone number alone'],
    ['@olena_k', 'a username'],
    ['olena@example.org', 'an e-mail address'],
    ['https://t.me/olena', 'a link'],
    ['olena.de', 'a web address without scheme'],
    ['www.olena.com', 'a www address'],
    ['Olena, Hauptstr. 5', 'an address'],
    ['<b>Olena</b>', 'HTML'],
    ['-Olena', 'a leading hyphen'],
    ["'", 'only an apostrophe'],
    ['Olena 🙂', 'an emoji'],
    ['Olena\nKyiv 5', 'a second line with a number'],
  ])('refuses anything else: %j (%s)', (raw) => {
    expect(checkIntakeName(raw)).toBeNull();
  });

  it('is checked again in the domain, language included', () => {
    expect(checkedIntake({ name: ' Olena ', language: 'uk' })).toEqual({ name: 'Olena', language: 'uk' });
    expect(() => checkedIntake({ name: 'Olena 0176', language: 'uk' })).toThrow(DomainError);
    expect(() => checkedIntake({ name: 'Olena', language: 'en' })).toThrow(new DomainError('intake.errors.language'));
  });
});
