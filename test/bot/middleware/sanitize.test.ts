import type { Context } from '../../../src/bot/context';
import { replaceNul, replaceNulDeep } from '../../../src/bot/middleware/sanitize';

describe('replaceNul', () => {
  it('replaces U+0000 with U+FFFD in every string of the update, in objects and arrays, keeping lengths', async () => {
    const update = {
      update_id: 1,
      message: {
        text: 'a\u0000b\u0000',
        from: { first_name: '\u0000Олена', is_bot: false },
        entities: [{ type: 'bold', offset: 0, length: 3 }],
        photo: [{ file_id: 'x\u0000' }, 'loose\u0000string', null, 42],
      },
    };
    let nextCalled = false;
    await replaceNul({ update } as unknown as Context, async () => {
      nextCalled = true;
    });
    expect(nextCalled).toBe(true);
    expect(update).toEqual({
      update_id: 1,
      message: {
        text: 'a\uFFFDb\uFFFD',
        from: { first_name: '\uFFFDОлена', is_bot: false },
        entities: [{ type: 'bold', offset: 0, length: 3 }],
        photo: [{ file_id: 'x\uFFFD' }, 'loose\uFFFDstring', null, 42],
      },
    });
  });

  it('walks 100,000-deep nesting without overflowing the stack', () => {
    let deepObject: Record<string, unknown> = { text: 'bottom\u0000' };
    const bottomObject = deepObject;
    for (let i = 0; i < 100_000; i++) deepObject = { a: deepObject };
    let deepArray: unknown[] = ['bottom\u0000'];
    const bottomArray = deepArray;
    for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
    const update = { update_id: 2, message: deepObject, other: deepArray };
    expect(() => replaceNulDeep(update)).not.toThrow();
    expect(bottomObject.text).toBe('bottom\uFFFD');
    expect(bottomArray[0]).toBe('bottom\uFFFD');
  });

  it('leaves primitives and strings without NUL alone', () => {
    expect(() => replaceNulDeep(null)).not.toThrow();
    expect(() => replaceNulDeep('x\u0000')).not.toThrow();
    const update = { update_id: 3, message: { text: 'ok' } };
    replaceNulDeep(update);
    expect(update).toEqual({ update_id: 3, message: { text: 'ok' } });
  });
});
