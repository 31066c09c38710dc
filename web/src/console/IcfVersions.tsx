// ICF versions (issue 14): the registered versions of the informed consent form and the consent
// items of each, in the reader's language. /console/icf lists them; /console/icf/<program>/
// <version>/<language> shows one version's items.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { codeLabel, describeError, itemClasses } from '../codes';
import { useI18n, type TextKey } from '../i18n';
import { consolePath, linkClick, useTitle } from '../router';

interface IcfVersionRow {
  program: string;
  version: string;
  language: string;
  effective_date: string;
  created_at: string;
}
interface IcfItem {
  code: string;
  class: string;
  label: { ja: string; en: string };
  duo?: string | null;
}

const time = (s: string) => s.slice(0, 16).replace('T', ' ');

export function IcfVersionsPage({ rest }: { rest: string[] }) {
  const { t, lang } = useI18n();
  const [versions, setVersions] = useState<IcfVersionRow[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: IcfVersionRow[] }>('GET', '/api/v1/icf')
      .then((r) => setVersions(r.items))
      .catch((e) => setError(describeError(lang, e)));
  }, []);
  const programText = (p: string) => (p === 'cancer' || p === 'rare_disease' ? t(`program_${p}` as TextKey) : p);
  const langText = (l: string) => (l === 'ja' || l === 'en' ? t(`lang_${l}` as TextKey) : l);
  if (rest.length === 3) return <IcfItems program={rest[0]} version={rest[1]} language={rest[2]} programText={programText} langText={langText} />;
  return (
    <section className="card" aria-labelledby="h-icf">
      <h2 id="h-icf">
        {t('navIcf')} ({versions?.length ?? 0})
      </h2>
      <p className="muted">{t('icfIntro')}</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {versions && versions.length > 0 && (
        <div className="table-wrap">
          <table data-testid="icf-table" aria-labelledby="h-icf">
            <thead>
              <tr>
                <th scope="col">{t('icfProgram')}</th>
                <th scope="col">{t('icfVersionShort')}</th>
                <th scope="col">{t('icfLanguage')}</th>
                <th scope="col">{t('icfEffective')}</th>
                <th scope="col">{t('icfRegistered')}</th>
                <th scope="col">{t('icfItems')}</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => {
                const to = consolePath('icf', v.program, v.version, v.language);
                return (
                  <tr key={`${v.program}/${v.version}/${v.language}`} data-icf={`${v.program}/${v.version}/${v.language}`}>
                    <td>{programText(v.program)}</td>
                    <td>{v.version}</td>
                    <td>{langText(v.language)}</td>
                    <td>{v.effective_date}</td>
                    <td>{time(v.created_at)}</td>
                    <td>
                      <a href={to} onClick={linkClick(to)} aria-label={`${t('icfShowItems')}: ${programText(v.program)} ${v.version} ${langText(v.language)}`}>
                        {t('icfShowItems')}
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function IcfItems({ program, version, language, programText, langText }: {
  program: string;
  version: string;
  language: string;
  programText: (p: string) => string;
  langText: (l: string) => string;
}) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<IcfItem[] | null>(null);
  const [effective, setEffective] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    setItems(null);
    setError('');
    api<{ items: IcfItem[]; effective_date: string }>('GET', `/api/v1/icf/${encodeURIComponent(program)}/${encodeURIComponent(version)}/${encodeURIComponent(language)}`)
      .then((r) => {
        setItems(r.items);
        setEffective(r.effective_date);
      })
      .catch((e) => setError(e?.status === 404 ? t('icfNotFound') : describeError(lang, e)));
  }, [program, version, language]);
  const heading = lang === 'ja' ? `${programText(program)} ${version}（${langText(language)}）` : `${programText(program)} ${version} (${langText(language)})`;
  useTitle(heading, `${t('navIcf')} | ${t('appName')}`);
  return (
    <section className="card" aria-labelledby="h-icf-items">
      <p>
        <a href={consolePath('icf')} onClick={linkClick(consolePath('icf'))}>
          {t('icfBack')}
        </a>
      </p>
      <h2 id="h-icf-items" data-testid="icf-heading">
        {heading}
      </h2>
      {effective && (
        <p>
          {t('icfEffective')}: {effective}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {items && (
        <div className="table-wrap">
          <table data-testid="icf-items" aria-labelledby="h-icf-items">
            <thead>
              <tr>
                <th scope="col">{t('icfItemCode')}</th>
                <th scope="col">{t('icfItemClass')}</th>
                <th scope="col">{t('icfItemLabel')}</th>
                <th scope="col">{t('icfItemDuo')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((it) => (
                <tr key={it.code} data-item={it.code}>
                  <td>{it.code}</td>
                  <td>{codeLabel(itemClasses, lang, it.class)}</td>
                  <td>{it.label[lang] || it.label.ja || it.label.en}</td>
                  <td>{it.duo ? <code>{it.duo}</code> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
