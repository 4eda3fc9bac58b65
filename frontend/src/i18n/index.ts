import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import enCommon from './en/common.json';
import enMember from './en/member.json';
import enConsole from './en/console.json';
import enCashier from './en/cashier.json';
import faCommon from './fa/common.json';
import faMember from './fa/member.json';
import faConsole from './fa/console.json';
import faCashier from './fa/cashier.json';

/** Languages the dashboard speaks. */
export const LANGUAGES = ['en', 'fa'] as const;
/** One of LANGUAGES. */
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'patron.language';

/** Text direction of a language. */
export function directionOf(language: string): 'ltr' | 'rtl' {
  return language === 'fa' ? 'rtl' : 'ltr';
}

function storedLanguage(): Language {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    return stored === 'fa' ? 'fa' : 'en';
  } catch {
    return 'en';
  }
}

function applyToDocument(language: string): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = language;
  document.documentElement.dir = directionOf(language);
}

/** Switches the language, remembers it and sets `lang`/`dir` on <html>. */
export async function setLanguage(language: Language): Promise<void> {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, language);
  } catch {
    // Private mode may refuse storage; the switch still applies to this page.
  }
  await i18n.changeLanguage(language);
}

void i18n.use(initReactI18next).init({
  resources: {
    en: { common: enCommon, member: enMember, console: enConsole, cashier: enCashier },
    fa: { common: faCommon, member: faMember, console: faConsole, cashier: faCashier },
  },
  lng: storedLanguage(),
  fallbackLng: 'en',
  ns: ['common', 'member', 'console', 'cashier'],
  defaultNS: 'common',
  interpolation: { escapeValue: false },
  initAsync: false,
});

applyToDocument(i18n.language);
i18n.on('languageChanged', applyToDocument);

export default i18n;
