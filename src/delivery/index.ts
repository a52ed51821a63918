import { createDeskRenderers } from './desk-renderers';
import { createModerationRenderers } from './moderation-renderers';
import { createNoticeRenderers } from './notice-renderers';
import type { RendererRegistry } from './render';
import { createSucheBieteRenderers } from './renderers';
import { createTranslationRenderers } from './translation';
import { createWaveRenderers } from './wave-renderers';

/** Every outbox kind the bot knows, with its renderer: a kind of the catalogue without one does not compile. */
export function createRenderers(): RendererRegistry {
  return { ...createSucheBieteRenderers(), ...createWaveRenderers(), ...createNoticeRenderers(), ...createModerationRenderers(), ...createDeskRenderers(), ...createTranslationRenderers() } satisfies RendererRegistry;
}
