import { z } from 'zod';
import type { Context, DialogState } from '../../src/bot/context';
import { defineDialog, MESSAGE_TEXT_MAX, underHintIfFits } from '../../src/bot/dialog';
import { telegramLength } from '../../src/presentation/format';
import { createSilentLogger } from '../../src/logger';

const draft = defineDialog({
  name: 'post',
  steps: z.enum(['category', 'text']),
  data: z.object({ kind: z.enum(['need', 'offer']), text: z.string().optional() }),
});

/** The parts of a context the helper touches: the session, the pressed button, the log and the API. */
function fakeContext(dialog: unknown, pressedOn?: number) {
  const edits: number[] = [];
  const ctx = {
    session: { dialog },
    callbackQuery: pressedOn === undefined ? undefined : { data: 'd:cat:x', message: { message_id: pressedOn } },
    chat: { id: 1 },
    log: createSilentLogger(),
    api: {
      editMessageReplyMarkup: async (_chat: number, messageId: number) => {
        edits.push(messageId);
        return true;
      },
    },
  };
  return { ctx: ctx as unknown as Context, session: ctx.session as { dialog?: DialogState }, keyboardsRemoved: edits };
}

const saved = (overrides: Partial<Record<keyof DialogState, unknown>> = {}) => ({
  name: 'post',
  step: 'text',
  messageId: 7,
  data: { kind: 'need', text: 'Suche ein Zimmer' },
  ...overrides,
});

describe('defineDialog', () => {
  it('reads its running dialog back with typed step and data', () => {
    const { ctx } = fakeContext(saved());
    expect(draft.current(ctx)).toEqual({ step: 'text', data: { kind: 'need', text: 'Suche ein Zimmer' }, messageId: 7 });
  });

  it('leaves another dialog alone', () => {
    const other = saved({ name: 'notice', step: 'audience' });
    const { ctx, session } = fakeContext(other, 7);
    expect(draft.current(ctx)).toBeUndefined();
    expect(draft.forButton(ctx)).toBeUndefined();
    expect(session.dialog).toBe(other);
  });

  it('treats a session without a dialog, or with something else in it, as no dialog', () => {
    for (const dialog of [undefined, null, 'post', 42, {}]) {
      expect(draft.current(fakeContext(dialog).ctx)).toBeUndefined();
    }
  });

  it.each([
    ['an unknown step', saved({ step: 'photo' })],
    ['a step that is not a string', saved({ step: 3 })],
    ['data that does not fit', saved({ data: { kind: 'gift' } })],
    ['no data at all', saved({ data: undefined })],
    ['a message id that is not a number', saved({ messageId: '7' })],
  ])('drops its dialog with %s and treats it as none', (_what, dialog) => {
    const { ctx, session } = fakeContext(dialog, 7);
    expect(draft.forButton(ctx)).toBeUndefined();
    expect(session.dialog).toBeUndefined();
  });

  it('answers a button only on the dialog’s current message', () => {
    expect(draft.forButton(fakeContext(saved(), 7).ctx)?.step).toBe('text');
    // An older message of the dialog, a message without id (forged), and no button at all.
    const stale = fakeContext(saved(), 6);
    expect(draft.forButton(stale.ctx)).toBeUndefined();
    expect(stale.session.dialog).toEqual(saved()); // stale, not broken: the dialog goes on
    expect(draft.forButton(fakeContext(saved({ messageId: undefined }), 7).ctx)).toBeUndefined();
    expect(draft.forButton(fakeContext(saved()).ctx)).toBeUndefined();
  });

  it('stores the session shape it always had, and takes the previous message’s buttons away', async () => {
    const { ctx, session, keyboardsRemoved } = fakeContext(saved());
    await draft.remember(ctx, 'category', { kind: 'offer' }, 8);
    expect(session.dialog).toEqual({ name: 'post', step: 'category', messageId: 8, data: { kind: 'offer' } });
    expect(keyboardsRemoved).toEqual([7]);
  });

  it('leaves the session object as read when the same step is remembered again (nothing to write)', async () => {
    // Keys in the order PostgreSQL's jsonb gives them back, not the order they were written in.
    const stored = { data: { text: 'Suche ein Zimmer', kind: 'need' }, name: 'post', step: 'text', messageId: 7 };
    const { ctx, session, keyboardsRemoved } = fakeContext(stored, 7);
    const running = draft.forButton(ctx)!;
    await draft.remember(ctx, running.step, running.data, 7);
    expect(session.dialog).toBe(stored);
    expect(keyboardsRemoved).toEqual([]);
  });

  it('ends the dialog', async () => {
    const { ctx, session } = fakeContext(saved());
    await draft.end(ctx);
    expect(session.dialog).toBeUndefined();
  });
});

describe('underHintIfFits', () => {
  it('counts what Telegram counts: tags not at all, an entity as one character, emoji as one', () => {
    expect(telegramLength('<b>Q&amp;A</b> &lt;3')).toBe(6);
    expect(telegramLength('🇺🇦 ок')).toBe(5);
    expect(telegramLength('<a href="https://t.me/x?a=1&amp;b=2">Link</a>')).toBe(4);
  });

  it('puts the hint above the step while both fit in one message, and before it on its own when not', () => {
    const hint = 'Bitte wählen Sie mit den Knöpfen unten.';
    const fitting = 'x'.repeat(MESSAGE_TEXT_MAX - [...hint].length - 2);
    expect(underHintIfFits(hint, fitting)).toEqual({ text: `${hint}\n\n${fitting}` });
    // Escaped characters count once: HTML far longer than the limit still takes the hint.
    const escaped = '&amp;'.repeat(MESSAGE_TEXT_MAX - [...hint].length - 2);
    expect(underHintIfFits(hint, escaped)).toEqual({ text: `${hint}\n\n${escaped}` });
    const tooLong = `${fitting}y`;
    expect(underHintIfFits(hint, tooLong)).toEqual({ before: hint, text: tooLong });
    expect(underHintIfFits(undefined, tooLong)).toEqual({ text: tooLong });
  });
});
