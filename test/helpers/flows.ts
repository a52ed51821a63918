import type { TestUser } from './harness';

/** Button labels per language, so that flows read like what people tap. */
const LABELS = {
  needHelp: { uk: '🙋 Мені потрібна допомога', de: '🙋 Ich brauche Hilfe', ru: '🙋 Мне нужна помощь' },
  wantToHelp: { uk: '🤝 Я хочу допомогти', de: '🤝 Ich möchte helfen', ru: '🤝 Я хочу помочь' },
  categories: { uk: '🏷 Теми', de: '🏷 Themen', ru: '🏷 Темы' },
  districts: { uk: '📍 Райони', de: '📍 Bezirke', ru: '📍 Районы' },
  back: { uk: '‹ Назад', de: '‹ Zurück', ru: '‹ Назад' },
  done: { uk: '✅ Готово', de: '✅ Fertig', ru: '✅ Готово' },
  skipPhoto: { uk: '➡️ Далі без фото', de: '➡️ Ohne Foto weiter', ru: '➡️ Дальше без фото' },
  publish: { uk: '✅ Опублікувати', de: '✅ Veröffentlichen', ru: '✅ Опубликовать' },
} as const;

type Lang = 'uk' | 'de' | 'ru';

function lang(user: TestUser): Lang {
  const code = user.persona.language_code;
  return code === 'uk' || code === 'ru' ? code : 'de';
}

/** /start → role → district, through the buttons. `district` is the button label. */
export async function onboard(user: TestUser, role: 'seeker' | 'helper', district: string): Promise<void> {
  const l = lang(user);
  await user.send('/start');
  await user.click(role === 'seeker' ? LABELS.needHelp[l] : LABELS.wantToHelp[l]);
  await user.click(district);
}

/** /subscribe → pick categories and districts by their button labels (without the ✅/▫️ mark). */
export async function subscribe(user: TestUser, categories: string[], districts: string[]): Promise<void> {
  const l = lang(user);
  await user.send('/subscribe');
  await user.click(LABELS.categories[l]);
  for (const c of categories) await user.click(`▫️ ${c}`);
  await user.click(LABELS.back[l]);
  await user.click(LABELS.districts[l]);
  // Start from a clean district selection: unselect what is preselected, then select the wanted ones.
  for (const row of user.last.replyMarkup?.inline_keyboard ?? []) {
    for (const button of row) {
      if (button.text.startsWith('✅ ') && !districts.includes(button.text.slice(2))) await user.click(button.text);
    }
  }
  for (const d of districts) {
    if (!user.buttons().includes(`✅ ${d}`)) await user.click(`▫️ ${d}`);
  }
  await user.click(LABELS.back[l]);
  await user.click(LABELS.done[l]);
}

/**
 * Picks a district in the post dialog. The home district is offered once, at the top
 * ("➡️ Mitte (your district)"), not again in the list.
 */
export async function clickDistrict(user: TestUser, district: string): Promise<void> {
  const home = new RegExp(`^➡️ ${district.replace(/^🏙 /, '').replace(/[()]/g, '\\$&')} `);
  await user.click(user.buttons().includes(district) ? district : home);
}

/** /need or /offer through the whole dialog; returns after publishing. */
export async function post(user: TestUser, kind: 'need' | 'offer', category: string, district: string, text: string): Promise<void> {
  const l = lang(user);
  await user.send(kind === 'need' ? '/need' : '/offer');
  await user.click(category);
  await clickDistrict(user, district);
  await user.send(text);
  await user.click(LABELS.skipPhoto[l]);
  await user.click(LABELS.publish[l]);
}
