// ICF versions (issue 14): the registered versions of the informed consent form and the consent
// items of each, in the reader's language. /console/icf lists them (and the data steward
// registers a new one there); /console/icf/<program>/<version>/<language> shows one version's
// items.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { codeLabel, describeError, itemClasses } from '../codes';
import { useI18n, type TextKey } from '../i18n';
import { consolePath, linkClick, useTitle } from '../router';
import { FormCard, ListCard, useStatus } from './blocks';

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

export function IcfVersionsPage({ rest, session }: { rest: string[]; session: SessionInfo }) {
  const { t, lang } = useI18n();
  const steward = session.roles.includes('data_steward');
  const [versions, setVersions] = useState<IcfVersionRow[] | null>(null);
  const load = () =>
    api<{ items: IcfVersionRow[] }>('GET', '/api/v1/icf')
      .then((r) => setVersions(r.items))
      .catch((e) => setError(describeError(lang, e)));
  const { message, error, setError, act } = useStatus(load);
  useEffect(() => {
    load();
  }, []);
  const programText = (p: string) => (p === 'cancer' || p === 'rare_disease' ? t(`program_${p}` as TextKey) : p);
  const langText = (l: string) => (l === 'ja' || l === 'en' ? t(`lang_${l}` as TextKey) : l);
  if (rest.length === 3) return <IcfItems program={rest[0]} version={rest[1]} language={rest[2]} programText={programText} langText={langText} />;
  return (
    <div className="admin">
      <ListCard headingId="h-icf" title={t('navIcf')} count={versions?.length ?? null} intro={t('icfIntro')}
        statusTestId={steward ? 'icf-status' : undefined} message={message} error={error} tableTestId="icf-table"
        columns={[t('icfProgram'), t('icfVersionShort'), t('icfLanguage'), t('icfEffective'), t('icfRegistered'), t('icfItems')]}>
        {versions?.map((v) => {
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
      </ListCard>
      {steward && versions && <RegisterIcf versions={versions} programText={programText} langText={langText} act={act} />}
    </div>
  );
}

// The steward registers a new version (POST /api/v1/icf): its consent items start as a copy of
// an existing version's, edited as JSON; the server checks every item and names the field.
function RegisterIcf({ versions, programText, langText, act }: {
  versions: IcfVersionRow[];
  programText: (p: string) => string;
  langText: (l: string) => string;
  act: (f: () => Promise<string>) => Promise<void>;
}) {
  const { t, lang } = useI18n();
  const [form, setForm] = useState({ program: 'cancer', version: '', language: 'ja', effective_date: '', items: '' });
  const [base, setBase] = useState('');
  const [itemsError, setItemsError] = useState('');
  const copyFrom = async (key: string) => {
    setBase(key);
    if (!key) return;
    try {
      const r = await api<{ items: IcfItem[] }>('GET', `/api/v1/icf/${key.split('/').map(encodeURIComponent).join('/')}`);
      setForm((f) => ({ ...f, items: JSON.stringify(r.items, null, 2) }));
    } catch (e) {
      setItemsError(describeError(lang, e));
    }
  };
  return (
    <FormCard testId="register-icf" title={t('icfRegister')} submitLabel={t('icfRegister')} onSubmit={() => {
      let items: unknown;
      try {
        items = JSON.parse(form.items);
      } catch {
        items = null;
      }
      if (!Array.isArray(items)) {
        setItemsError(t('icfItemsInvalid'));
        return;
      }
      setItemsError('');
      act(async () => {
        const r = await api<{ program: string; version: string; language: string }>('POST', '/api/v1/icf', { ...form, items });
        return t('icfRegistered_done', { program: programText(r.program), version: r.version, language: langText(r.language) });
      });
    }}>
      <label>
        {t('icfProgram')}
        <select value={form.program} onChange={(e) => setForm({ ...form, program: e.target.value })}>
          {['cancer', 'rare_disease'].map((p) => (
            <option key={p} value={p}>
              {programText(p)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('icfVersionShort')}
        <input required maxLength={256} value={form.version} onChange={(e) => setForm({ ...form, version: e.target.value })} />
      </label>
      <label>
        {t('icfWrittenIn')}
        <select value={form.language} onChange={(e) => setForm({ ...form, language: e.target.value })}>
          {['ja', 'en'].map((l) => (
            <option key={l} value={l}>
              {langText(l)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('icfEffective')}
        <input type="date" required value={form.effective_date} onChange={(e) => setForm({ ...form, effective_date: e.target.value })} />
      </label>
      <label>
        {t('icfBase')}
        <select value={base} onChange={(e) => copyFrom(e.target.value)}>
          <option value="">{t('runChoose')}</option>
          {versions.map((v) => {
            const key = `${v.program}/${v.version}/${v.language}`;
            return (
              <option key={key} value={key}>
                {programText(v.program)} {v.version} {langText(v.language)}
              </option>
            );
          })}
        </select>
      </label>
      <label>
        {t('icfItemsJson')}
        <textarea required rows={8} value={form.items} aria-invalid={itemsError ? true : undefined}
          aria-describedby={itemsError ? 'icf-items-error' : undefined} onChange={(e) => setForm({ ...form, items: e.target.value })} />
      </label>
      {itemsError && (
        <p role="alert" className="error" id="icf-items-error">
          {itemsError}
        </p>
      )}
    </FormCard>
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
    let current = true; // an answer for an earlier choice is dropped
    api<{ items: IcfItem[]; effective_date: string }>('GET', `/api/v1/icf/${encodeURIComponent(program)}/${encodeURIComponent(version)}/${encodeURIComponent(language)}`)
      .then((r) => {
        if (!current) return;
        setItems(r.items);
        setEffective(r.effective_date);
      })
      .catch((e) => current && setError(e?.status === 404 ? t('icfNotFound') : describeError(lang, e)));
    return () => {
      current = false;
    };
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
