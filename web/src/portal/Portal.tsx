// The public portal (R4.9): programme progress as charts and tables, the release calendar and
// the audit chain head. Every number arrives already suppressed by the server ("<10", "x").
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api';
import { Chart } from '../Chart';
import { diseaseLabel, useI18n, type TextKey } from '../i18n';

type Count = number | string;
interface ProgressRow {
  key: string;
  label?: string;
  counts: Record<string, Count>;
}
interface Progress {
  generated_at: string;
  stages: string[];
  suppression: { threshold: number; marker: string; withheld: string };
  totals: Record<string, Count>;
  by_month: ProgressRow[];
  by_program: ProgressRow[];
  by_disease_category: ProgressRow[];
  by_facility: ProgressRow[];
}
interface Releases {
  tiers: string[];
  items: { id: string; title: { ja: string; en: string }; tier: string; embargo_until: string; release_date: string }[];
}

const numeric = (c: Count): number | null => (typeof c === 'number' ? c : null);

function Breakdown({ title, rows, stages, labelOf, kind, id }: {
  title: TextKey;
  rows: ProgressRow[];
  stages: string[];
  labelOf: (r: ProgressRow) => string;
  kind: 'bar' | 'line';
  id: string;
}) {
  const { t } = useI18n();
  const [asTable, setAsTable] = useState(false);
  const stageLabel = (s: string) => t(`stage_${s}` as TextKey);
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 48, right: 16, top: 40, bottom: kind === 'line' ? 40 : 64, containLabel: true },
      xAxis: { type: 'category', data: rows.map(labelOf), axisLabel: { rotate: kind === 'line' ? 0 : 20, hideOverlap: true } },
      yAxis: { type: 'value' },
      series: stages
        .filter((s) => s !== 'released')
        .map((s) => ({
          name: stageLabel(s),
          type: kind,
          connectNulls: false,
          data: rows.map((r) => numeric(r.counts[s])),
        })),
    }),
    [rows, stages, t],
  );
  const csv = () => {
    const head = ['key', ...stages].join(',');
    const lines = rows.map((r) => [JSON.stringify(labelOf(r)), ...stages.map((s) => String(r.counts[s]))].join(','));
    const blob = new Blob([[head, ...lines].join('\n') + '\n'], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `zengen-progress-${id}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <section className="card" aria-labelledby={`h-${id}`}>
      <div className="card-head">
        <h2 id={`h-${id}`}>{t(title)}</h2>
        <div className="actions">
          <button type="button" onClick={() => setAsTable(!asTable)} aria-pressed={asTable}>
            {asTable ? t('showChart') : t('showTable')}
          </button>
          <button type="button" onClick={csv}>
            {t('downloadCsv')}
          </button>
        </div>
      </div>
      {asTable ? null : <Chart option={option} label={`${t(title)}${t('chartOf')}`} testId={`chart-${id}`} />}
      <div className={asTable ? 'table-wrap' : 'table-wrap collapsed'}>
        <table data-testid={`table-${id}`}>
          <caption>{t(title)}</caption>
          <thead>
            <tr>
              <th scope="col">{t(title)}</th>
              {stages.map((s) => (
                <th scope="col" key={s}>
                  {stageLabel(s)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{labelOf(r)}</th>
                {stages.map((s) => (
                  <td key={s} className={typeof r.counts[s] === 'string' ? 'suppressed' : undefined}>
                    {String(r.counts[s])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Portal() {
  const { t, lang } = useI18n();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [releases, setReleases] = useState<Releases | null>(null);
  const [head, setHead] = useState<{ seq: number; hash: string } | null>(null);
  const [failed, setFailed] = useState('');
  useEffect(() => {
    api<Progress>('GET', '/api/v1/portal/progress').then(setProgress).catch((e) => setFailed(String(e.message)));
    api<Releases>('GET', '/api/v1/portal/releases').then(setReleases).catch(() => setReleases({ tiers: [], items: [] }));
    api<{ seq: number; hash: string }>('GET', '/api/v1/audit/head').then(setHead).catch(() => setHead(null));
  }, []);
  if (failed) return <p role="alert">{t('loadFailed')}: {failed}</p>;
  if (!progress) return <p aria-busy="true">{t('loading')}</p>;
  const stages = progress.stages;
  const funnel = {
    tooltip: { trigger: 'axis' },
    grid: { left: 48, right: 16, top: 16, bottom: 24, containLabel: true },
    xAxis: { type: 'category', data: stages.map((s) => t(`stage_${s}` as TextKey)), axisLabel: { interval: 0 } },
    yAxis: { type: 'value' },
    series: [{ type: 'bar', name: t('totals'), data: stages.map((s) => numeric(progress.totals[s])), label: { show: true, position: 'top' } }],
  };
  return (
    <div className="portal">
      <h1>{t('progressTitle')}</h1>
      <p className="intro">{t('progressIntro')}</p>
      <dl className="facts">
        <div>
          <dt>{t('lastUpdate')}</dt>
          <dd data-testid="generated-at">{progress.generated_at.replace('T', ' ').replace('Z', ' UTC')}</dd>
        </div>
        <div>
          <dt>{t('auditHead')}</dt>
          <dd data-testid="audit-head">
            {head ? (
              <>
                {t('auditSeq')} {head.seq} · <code>{head.hash.slice(0, 16)}…</code>
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
      </dl>
      <section className="card" aria-labelledby="h-totals">
        <h2 id="h-totals">{t('totals')}</h2>
        <Chart option={funnel} label={`${t('totals')}${t('chartOf')}`} testId="chart-totals" />
        <ul className="totals">
          {stages.map((s) => (
            <li key={s}>
              <span>{t(`stage_${s}` as TextKey)}</span> <strong>{String(progress.totals[s])}</strong>
            </li>
          ))}
        </ul>
      </section>
      <Breakdown id="month" title="byMonth" kind="line" rows={progress.by_month} stages={stages} labelOf={(r) => r.key} />
      <Breakdown id="program" title="byProgram" kind="bar" rows={progress.by_program} stages={stages} labelOf={(r) => t(`program_${r.key}` as TextKey)} />
      <Breakdown id="disease" title="byDisease" kind="bar" rows={progress.by_disease_category} stages={stages} labelOf={(r) => diseaseLabel(lang, r.key)} />
      <Breakdown id="facility" title="byFacility" kind="bar" rows={progress.by_facility} stages={stages} labelOf={(r) => facilityName(r.label ?? r.key, lang)} />
      <section className="card" aria-labelledby="h-releases">
        <h2 id="h-releases">{t('releases')}</h2>
        {!releases || releases.items.length === 0 ? (
          <p data-testid="no-releases">{t('noReleases')}</p>
        ) : (
          <table>
            <caption>{t('releases')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('title')}</th>
                <th scope="col">{t('tier')}</th>
                <th scope="col">{t('embargo')}</th>
                <th scope="col">{t('releaseDate')}</th>
              </tr>
            </thead>
            <tbody>
              {releases.items.map((r) => (
                <tr key={r.id}>
                  <td>{r.title[lang]}</td>
                  <td>{r.tier}</td>
                  <td>{r.embargo_until}</td>
                  <td>{r.release_date}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

// Organisation names are stored as "日本語名 (English name)"; show the part for the language.
export function facilityName(name: string, lang: 'ja' | 'en'): string {
  const m = /^(.*?)\s*\((.*)\)$/.exec(name);
  if (!m) return name;
  return lang === 'ja' ? m[1] : m[2];
}
