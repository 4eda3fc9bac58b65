import type { Language } from '../i18n';

interface NameTranslation {
  language: string;
  text: string;
}
interface RewardTranslation {
  language: string;
  name: string;
  description: string;
}

function matches(candidate: string, language: string): boolean {
  return candidate === language || candidate.split('-')[0] === language;
}

/** A tier's name in `language` when the shop translated it, else its default name. */
export function tierName(tier: { name: string; nameTranslations?: readonly NameTranslation[] }, language: string): string {
  return tier.nameTranslations?.find((t) => matches(t.language, language))?.text || tier.name;
}

/** A reward's name and description in `language` when translated, else the defaults. */
export function rewardText(
  reward: { name: string; description?: string; translations?: readonly RewardTranslation[] },
  language: Language | string,
): { name: string; description: string } {
  const translation = reward.translations?.find((t) => matches(t.language, language));
  return {
    name: translation?.name || reward.name,
    description: translation?.description || reward.description || '',
  };
}
