// The hospital's worklist (issue 14): every participant with the completeness of each clinical
// category and the consent state, the actions due flagged (consent to record, categories to
// complete, a withdrawal that stops new data), filterable, sortable and paged on the server
// (GET /api/v1/clinical/worklist). Each participant links to the first category to complete.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { codeLabel, consentStates, describeError } from '../codes';
import { diseaseLabel, useI18n, type TextKey } from '../i18n';
import { consolePath, linkClick } from '../router';
import type { Dictionary } from './Clinical';

interface WorklistItem {
  participant_id: string;
  local_id?: string;
  hospital: string;
  program: string;
  disease_category: string;
  index_date: string;
  consent: string;
  complete: number;
  due: string[];
  categories: { category: string; status: string; filled: number; applicable: number }[];
}

const filters = ['due', 'incomplete', 'consent_due', 'withdrawn', 'all'] as const;
const sorts = ['participant', 'least_complete', 'index_date'] as const;
const pageSize = 50;

export function WorklistPage() {
  const { t, pick, lang } = useI18n();
  const [dict, setDict] = useState<Dictionary | null>(null);
  const [filter, setFilter] = useState<(typeof filters)[number]>('due');
  const [sort, setSort] = useState<(typeof sorts)[number]>('participant');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ items: WorklistItem[]; total: number } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<Dictionary>('GET', '/api/v1/dictionary').then(setDict).catch((e) => setError(describeError(lang, e)));
  }, []);
  useEffect(() => {
    const q = new URLSearchParams({ filter, sort, limit: String(pageSize), offset: String(offset) });
    // Typing in the filter asks again per key; an earlier, slower answer is dropped.
    let current = true;
    api<{ items: WorklistItem[]; total: number }>('GET', `/api/v1/clinical/worklist?${q}`)
      .then((r) => {
        if (!current) return;
        setPage(r);
        setError('');
      })
      .catch((e) => current && setError(describeError(lang, e)));
    return () => {
      current = false;
    };
  }, [filter, sort, offset]);
  const cats = dict?.categories ?? [];
  const total = page?.total ?? 0;
  return (
    <section className="card worklist" aria-labelledby="h-worklist">
      <h2 id="h-worklist">{t('worklistTitle')}</h2>
      <p className="muted">{t('worklistIntro')}</p>
      <div className="filters">
        <label>
          {t('worklistFilter')}
          <select value={filter} onChange={(e) => {
            setFilter(e.target.value as (typeof filters)[number]);
            setOffset(0);
          }}>
            {filters.map((f) => (
              <option key={f} value={f}>
                {t(`worklistFilter_${f}` as TextKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('worklistSort')}
          <select value={sort} onChange={(e) => {
            setSort(e.target.value as (typeof sorts)[number]);
            setOffset(0);
          }}>
            {sorts.map((s) => (
              <option key={s} value={s}>
                {t(`worklistSort_${s}` as TextKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <p role="alert">{error}</p>}
      {page && (
        <>
          <p role="status" data-testid="worklist-count">
            {total === 0 ? t('worklistEmpty') : t('pageOf', { from: offset + 1, to: Math.min(total, offset + pageSize), total })}
          </p>
          <div className="table-scroll">
            <table data-testid="worklist-table">
              <caption>{t('worklistTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('participant')}</th>
                  <th scope="col">{t('worklistDisease')}</th>
                  <th scope="col">{t('worklistConsent')}</th>
                  {cats.map((c) => (
                    <th scope="col" key={c.code}>
                      {pick(c.label)}
                    </th>
                  ))}
                  <th scope="col">{t('worklistDue')}</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((p) => {
                  const next = p.categories.find((c) => c.status !== 'submitted' || c.filled < c.applicable)?.category ?? '';
                  const to = p.due.includes('record_consent') ? consolePath('consent', p.participant_id) : consolePath('participants', p.participant_id, next);
                  return (
                    <tr key={p.participant_id} data-participant={p.participant_id} data-due={p.due.join(' ')}>
                      <th scope="row">
                        <a href={to} onClick={linkClick(to)}>
                          {p.local_id ?? p.participant_id}
                        </a>
                        {p.local_id && <span className="muted"> {p.participant_id}</span>}
                      </th>
                      <td>
                        {diseaseLabel(lang, p.disease_category)} · {p.index_date}
                      </td>
                      <td className={p.consent === 'active' ? undefined : 'flag'}>{codeLabel(consentStates, lang, p.consent)}</td>
                      {p.categories.map((c) => {
                        const done = c.status === 'submitted' && c.filled >= c.applicable;
                        return (
                          <td key={c.category} data-category={c.category} className={done ? 'done' : 'missing'}>
                            {done ? `✓ ${t('status_submitted')}` : `${c.filled}${t('of')}${c.applicable} · ${t(`status_${c.status}` as TextKey)}`}
                          </td>
                        );
                      })}
                      <td>{p.due.map((d) => t(`due_${d}` as TextKey)).join('、') || '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {total > pageSize && (
            <div className="pager" data-testid="worklist-pager">
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>
                {t('previousPage')}
              </button>
              <button type="button" disabled={offset + pageSize >= total} onClick={() => setOffset(offset + pageSize)}>
                {t('nextPage')}
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}
