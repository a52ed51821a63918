import { createModerationRenderers } from './moderation-renderers';
import { createNoticeRenderers } from './notice-renderers';
import type { RendererRegistry } from './render';
import { createSucheBieteRenderers } from './renderers';

/** Every outbox kind the bot knows, with its renderer. */
export function createRenderers(): RendererRegistry {
  return { ...createSucheBieteRenderers(), ...createNoticeRenderers(), ...createModerationRenderers() };
}
