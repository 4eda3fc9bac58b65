import i18n from '../i18n';

/** Texts of the embedded member view (namespace `embed`), in both languages. */
export const EMBED_TEXTS = {
  en: {
    expiredTitle: 'Your session from the shop has expired — reload the page in the shop',
    expiredText: 'The shop signs you in for a short time. Reloading its page signs you in again.',
    refusedTitle: 'The shop’s sign-in was not accepted — reload the page in the shop',
    refusedText: 'If this keeps happening, contact the shop.',
    missingTitle: 'Open this page from the shop',
    missingText: 'This page shows your points when the shop you are signed in to opens it for you.',
  },
  fa: {
    expiredTitle: 'نشست شما از فروشگاه منقضی شده است — صفحه را در فروشگاه دوباره بارگیری کنید',
    expiredText: 'فروشگاه شما را برای مدت کوتاهی وارد می‌کند. بارگیری دوبارهٔ صفحهٔ آن، شما را دوباره وارد می‌کند.',
    refusedTitle: 'ورود از طرف فروشگاه پذیرفته نشد — صفحه را در فروشگاه دوباره بارگیری کنید',
    refusedText: 'اگر این مشکل ادامه داشت، با فروشگاه تماس بگیرید.',
    missingTitle: 'این صفحه را از فروشگاه باز کنید',
    missingText: 'این صفحه امتیازهای شما را وقتی نشان می‌دهد که فروشگاهی که در آن وارد شده‌اید آن را برایتان باز کند.',
  },
} as const;

for (const [language, texts] of Object.entries(EMBED_TEXTS)) {
  if (!i18n.hasResourceBundle(language, 'embed')) i18n.addResourceBundle(language, 'embed', texts);
}

export default i18n;
