import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { refusalText } from '../../src/bot/errors';
import { DomainError } from '../../src/domain/errors';
import { createTranslator } from '../../src/i18n';

describe('refusalText', () => {
  const i18n = createTranslator();

  it.each([
    ['uk', 'У вас уже максимальна кількість відкритих дописів (3).'],
    ['de', 'Sie haben schon die Höchstzahl an offenen Beiträgen (3).'],
    ['ru', 'У вас уже максимальное количество открытых записей (3).'],
  ] as const)('renders a refusal with its params (%s)', (locale, expected) => {
    const text = refusalText(i18n.fixed(locale), new DomainError('posts.errors.tooManyOpen', { max: 3 }));
    expect(text).toContain(expected);
    expect(text).not.toContain('{{');
  });

  it('renders every param of a refusal that has several', () => {
    const text = refusalText(i18n.fixed('de'), new DomainError('posts.errors.tooLong', { min: 10, max: 1000, length: 1001 }));
    expect(text).toBe('Der Text ist zu lang (1001 Zeichen, höchstens 1000). Bitte kürzen Sie ihn und senden Sie ihn noch einmal.');
  });

  it('is the only way the bot turns a DomainError into text (no key translated without its params)', () => {
    const dir = path.resolve(__dirname, '..', '..', 'src', 'bot');
    const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && f !== 'errors.ts');
    const offenders = files.flatMap((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `src/bot/${f}:${i + 1}`, line }))
        .filter(({ line }) => /\bt\(\s*\w+\.key\b/.test(line)),
    );
    expect(offenders).toEqual([]);
  });
});
