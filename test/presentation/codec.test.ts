import { z } from 'zod';
import { createCallbackData, idField, keyField } from '../../src/presentation/callback-data/codec';
import { parseStartPayload } from '../../src/presentation/callback-data/deep-link';

describe('callback data codec', () => {
  const postAction = createCallbackData('p', ['action', 'postId'], z.object({ action: z.enum(['close', 'renew']), postId: idField }));

  it('round-trips', () => {
    const data = postAction.encode({ action: 'close', postId: 42 });
    expect(data).toBe('p:close:42');
    expect(postAction.decode(data)).toEqual({ action: 'close', postId: 42 });
    expect(postAction.filter.test(data)).toBe(true);
  });

  it.each(['p:close', 'p:close:42:1', 'p:delete:42', 'p:close:-1', 'p:close:0', 'p:close:4.2', 'p:close:99999999999', 'x:close:42', '', 'p:close:42\n', `p:close:${'9'.repeat(70)}`])(
    'returns null for forged data %j',
    (data) => {
      expect(postAction.decode(data)).toBeNull();
    },
  );

  it('refuses to build data over Telegram’s 64 bytes or with separators', () => {
    const free = createCallbackData('f', ['v'], z.object({ v: z.string() }));
    expect(() => free.encode({ v: 'x'.repeat(70) })).toThrow(/too long/);
    expect(() => free.encode({ v: 'a:b' })).toThrow(/contains/);
  });

  it('accepts city keys and the whole-city key only', () => {
    expect(keyField.safeParse('hamborn').success).toBe(true);
    expect(keyField.safeParse('*').success).toBe(true);
    expect(keyField.safeParse('Hamborn').success).toBe(false);
    expect(keyField.safeParse('../etc').success).toBe(false);
  });
});

describe('/start deep links', () => {
  it('parses the kinds later features use', () => {
    expect(parseStartPayload(undefined)).toEqual({ type: 'none' });
    expect(parseStartPayload('')).toEqual({ type: 'none' });
    expect(parseStartPayload('staff_abcdefghijklmnopqrstuv')).toEqual({ type: 'staff', code: 'abcdefghijklmnopqrstuv' });
    expect(parseStartPayload('post_17')).toEqual({ type: 'post', postId: 17 });
    expect(parseStartPayload('post_2147483647')).toEqual({ type: 'post', postId: 2_147_483_647 });
  });

  it.each(['staff_short', 'post_0', 'post_x', 'hello', 'a'.repeat(65), 'staff_<script>', 'post_1 2', 'post_2147483648', 'post_9999999999'])('rejects %j', (payload) => {
    expect(parseStartPayload(payload)).toEqual({ type: 'invalid' });
  });
});
