import { Recipe } from './schema';

/** Days a channel's Release stays valid when the recipe does not say: a nightly moves daily, other channels are refreshed by a timer. */
const DEFAULT_VALID_DAYS: Record<string, number> = { nightly: 7 };
const OTHER_VALID_DAYS = 30;

/** How long `channel`'s signed index stays valid after it was signed, in seconds. */
export function channelValidSeconds(recipe: Recipe, channel: string): number {
  const days = recipe.repository.channelValidDays?.[channel] ?? DEFAULT_VALID_DAYS[channel] ?? OTHER_VALID_DAYS;
  return days * 86400;
}

/** Where a channel is served, when the recipe says where channels are. */
export function channelUrl(recipe: Recipe, channel: string): string | undefined {
  const base = recipe.repository.channelsUrl;
  return base ? `${base.replace(/\/+$/, '')}/${channel}/` : undefined;
}

/** What an installed host updates from: the channel it follows, or else the repository itself. */
export function hostSource(recipe: Recipe): { url: string; suite: string; channel?: string } {
  const channel = recipe.repository.channel;
  const url = channel ? channelUrl(recipe, channel) : undefined;
  if (channel && url) return { url, suite: channel, channel };
  return { url: recipe.repository.url, suite: recipe.repository.codename };
}
