import { useEffect, useMemo, useState } from 'react';
import { navigate, usePath } from './router';
import { I18nContext, Lang, loadLang, saveLang, translate, type I18n } from './i18n';
import { Portal } from './portal/Portal';
import { VariantFrequencies } from './portal/VariantFrequencies';
import { Console } from './console/Console';

// Paths: "/" and "/portal" are the public portal; "/console…" the staff console (router.ts).
// zengen answers index.html for every such path (src/web).
export function App() {
  const [lang, setLang] = useState<Lang>(loadLang());
  const path = usePath();
  const i18n: I18n = useMemo(
    () => ({ lang, t: (k, v) => translate(lang, k, v), pick: (b) => (b ? b[lang] : '') }),
    [lang],
  );
  const inConsole = path.startsWith('/console');
  // The portal's allele frequencies (issue 15).
  const inFrequencies = path.startsWith('/portal/variants');
  // The console's pages set their own titles (router.ts useTitle).
  useEffect(() => {
    document.documentElement.lang = lang;
    if (!inConsole) document.title = `${translate(lang, 'portal')} | ${translate(lang, 'appName')} Zengen`;
  }, [lang, inConsole]);
  const onLink = (p: string) => (ev: React.MouseEvent) => {
    ev.preventDefault();
    navigate(p);
  };
  return (
    <I18nContext.Provider value={i18n}>
      <a className="skip" href="#main">
        {i18n.t('skipToContent')}
      </a>
      <header className="top">
        <span className="brand">
          Zengen <span className="brand-sub">{i18n.t('appName')}</span>
        </span>
        <nav aria-label={i18n.t('appName')}>
          <a href="/" onClick={onLink('/')} aria-current={!inConsole && !inFrequencies ? 'page' : undefined}>
            {i18n.t('portal')}
          </a>
          <a href="/portal/variants" onClick={onLink('/portal/variants')} aria-current={inFrequencies ? 'page' : undefined}>
            {i18n.t('afNav')}
          </a>
          <a href="/console" onClick={onLink('/console')} aria-current={inConsole ? 'page' : undefined}>
            {i18n.t('console')}
          </a>
        </nav>
        <label className="lang">
          {i18n.t('language')}{' '}
          <select
            value={lang}
            onChange={(e) => {
              const l = e.target.value as Lang;
              saveLang(l);
              setLang(l);
            }}
          >
            <option value="ja">日本語</option>
            <option value="en">English</option>
          </select>
        </label>
      </header>
      <main id="main">{inConsole ? <Console /> : inFrequencies ? <VariantFrequencies /> : <Portal />}</main>
    </I18nContext.Provider>
  );
}
