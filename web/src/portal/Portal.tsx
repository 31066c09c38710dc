// The public portal (R4.9): programme progress as charts and tables, the release calendar and
// the audit chain head. Every number arrives already protected by the server's disclosure
// control: a number is the lower end of a band of ten (240 means 240–249), "<10" is 0–9 and
// "x" is withheld. Small and withheld counts stay visible in charts as marked bars.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from '../api';
import { Chart } from '../Chart';
import { diseaseLabel, useI18n, type TextKey } from '../i18n';
import { tiers } from '../console/sharingText';

type Count = number | string;
interface ProgressRow {
  key: string;
  label?: string;
  counts: Record<string, Count>;
}
interface Progress {
  generated_at: string;
  stages: string[];
  suppression: { base: number; marker: string; withheld: string };
  totals: Record<string, Count>;
  by_month: ProgressRow[];
  by_quarter?: ProgressRow[];
  cumulative_by_month?: ProgressRow[];
  by_program: ProgressRow[];
  by_disease_category: ProgressRow[];
  by_facility: ProgressRow[];
}
interface Releases {
  tiers: string[];
  items: { id: string; title: { ja: string; en: string }; tier: string; embargo_until: string; release_date: string }[];
}

const BASE = 10;
const SMALL = '<10';

// How a published count reads: a band "240–249", "<10", or "x".
export function countText(c: Count): string {
  return typeof c === 'number' ? `${c}–${c + BASE - 1}` : String(c);
}

// A chart datum: a band is drawn at its lower end; "<10" and "x" are drawn as marked bars (a
// hatched bar reaching 9 for "<10", an empty outlined stub for "x") so that they do not vanish.
function datum(c: Count, withheldLabel: string) {
  if (typeof c === 'number') return { value: c };
  if (c === SMALL) {
    return {
      value: BASE - 1,
      itemStyle: { opacity: 0.35, borderType: 'dashed', borderWidth: 1, borderColor: '#555' },
      label: { show: true, position: 'top', formatter: SMALL, color: '#555' },
    };
  }
  return {
    value: 1,
    itemStyle: { color: 'transparent', borderType: 'dotted', borderWidth: 1, borderColor: '#555' },
    label: { show: true, position: 'top', formatter: withheldLabel, color: '#555' },
  };
}

// Months where most cells are "<10" or "x" say little: the portal then starts with quarters.
function mostlySmall(rows: ProgressRow[]): boolean {
  const cells = rows.flatMap((r) => Object.values(r.counts));
  const small = cells.filter((c) => typeof c !== 'number').length;
  return cells.length > 0 && small * 2 > cells.length;
}

function Breakdown({ title, rows, stages, labelOf, kind, id, children }: {
  title: TextKey;
  rows: ProgressRow[];
  stages: string[];
  labelOf: (r: ProgressRow) => string;
  kind: 'bar' | 'line';
  id: string;
  children?: ReactNode;
}) {
  const { t, lang } = useI18n();
  const [asTable, setAsTable] = useState(false);
  const stageLabel = (s: string) => t(`stage_${s}` as TextKey);
  const option = useMemo(
    () => ({
      tooltip: {
        trigger: 'axis',
        formatter: (items: { seriesName: string; dataIndex: number; seriesIndex: number; marker: string }[]) =>
          items
            .map((it) => {
              const stage = stages.filter((s) => s !== 'released')[it.seriesIndex];
              return `${it.marker}${it.seriesName}: ${countText(rows[it.dataIndex].counts[stage])}`;
            })
            .join('<br/>'),
      },
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
          data: rows.map((r) => datum(r.counts[s], t('withheldShort'))),
        })),
    }),
    [rows, stages, t],
  );
  // Excel opens UTF-8 CSV correctly only with a byte-order mark; headers in the page's language.
  const csv = () => {
    const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const head = [t(title), ...stages.map(stageLabel)].map(quote).join(',');
    const lines = rows.map((r) => [labelOf(r), ...stages.map((s) => countText(r.counts[s]))].map(quote).join(','));
    const blob = new Blob(['\ufeff' + [head, ...lines].join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `zengen-progress-${id}-${lang}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <section className="card" aria-labelledby={`h-${id}`}>
      <div className="card-head">
        <h2 id={`h-${id}`}>{t(title)}</h2>
        <div className="actions">
          {children}
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
                    {countText(r.counts[s])}
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
  const [period, setPeriod] = useState<'month' | 'quarter' | 'cumulative' | null>(null);
  useEffect(() => {
    api<Progress>('GET', '/api/v1/portal/progress').then(setProgress).catch((e) => setFailed(String(e.message)));
    api<Releases>('GET', '/api/v1/portal/releases').then(setReleases).catch(() => setReleases({ tiers: [], items: [] }));
    api<{ seq: number; hash: string }>('GET', '/api/v1/audit/head').then(setHead).catch(() => setHead(null));
  }, []);
  if (failed) return <p role="alert">{t('loadFailed')}: {failed}</p>;
  if (!progress) return <p aria-busy="true">{t('loading')}</p>;
  const stages = progress.stages;
  const chosen = period ?? (mostlySmall(progress.by_month) && progress.by_quarter ? 'quarter' : 'month');
  const periodRows =
    chosen === 'quarter'
      ? progress.by_quarter ?? progress.by_month
      : chosen === 'cumulative'
        ? progress.cumulative_by_month ?? progress.by_month
        : progress.by_month;
  const periodTitle: TextKey = chosen === 'quarter' ? 'byQuarter' : chosen === 'cumulative' ? 'cumulativeByMonth' : 'byMonth';
  const funnel = {
    tooltip: { trigger: 'axis' },
    grid: { left: 48, right: 16, top: 16, bottom: 24, containLabel: true },
    xAxis: { type: 'category', data: stages.map((s) => t(`stage_${s}` as TextKey)), axisLabel: { interval: 0 } },
    yAxis: { type: 'value' },
    series: [{ type: 'bar', name: t('totals'), data: stages.map((s) => datum(progress.totals[s], t('withheldShort'))), label: { show: true, position: 'top' } }],
  };
  return (
    <div className="portal">
      <h1>{t('progressTitle')}</h1>
      <p className="intro">{t('progressIntroBands')}</p>
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
              <span>{t(`stage_${s}` as TextKey)}</span> <strong>{countText(progress.totals[s])}</strong>
            </li>
          ))}
        </ul>
      </section>
      <Breakdown id="month" title={periodTitle} kind={chosen === 'month' ? 'line' : 'bar'} rows={periodRows} stages={stages} labelOf={(r) => r.key}>
        <label>
          {t('period')}{' '}
          <select value={chosen} onChange={(e) => setPeriod(e.target.value as 'month' | 'quarter' | 'cumulative')} data-testid="period">
            <option value="month">{t('periodMonth')}</option>
            {progress.by_quarter ? <option value="quarter">{t('periodQuarter')}</option> : null}
            {progress.cumulative_by_month ? <option value="cumulative">{t('periodCumulative')}</option> : null}
          </select>
        </label>
      </Breakdown>
      <Breakdown id="program" title="byProgram" kind="bar" rows={progress.by_program} stages={stages} labelOf={(r) => t(`program_${r.key}` as TextKey)} />
      <Breakdown id="disease" title="byDisease" kind="bar" rows={progress.by_disease_category} stages={stages} labelOf={(r) => diseaseLabel(lang, r.key)} />
      <Breakdown id="facility" title="byFacility" kind="bar" rows={progress.by_facility} stages={stages} labelOf={(r) => facilityName(r.label ?? r.key, lang)} />
      <section className="card" aria-labelledby="h-stages">
        <h2 id="h-stages">{t('stageDefinitions')}</h2>
        <dl className="definitions" data-testid="stage-definitions">
          {stages.map((s) => (
            <div key={s}>
              <dt>{t(`stage_${s}` as TextKey)}</dt>
              <dd>{t(`stageDef_${s}` as TextKey)}</dd>
            </div>
          ))}
        </dl>
      </section>
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
                  <td>{tiers[r.tier]?.[lang] ?? r.tier}</td>
                  <td>{r.embargo_until}</td>
                  <td>{r.release_date}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-labelledby="h-apply">
        <h2 id="h-apply">{t('applyTitle')}</h2>
        <p>{t('applyIntro')}</p>
        <ol data-testid="how-to-apply">
          <li>{t('applyStep1')}</li>
          <li>{t('applyStep2')}</li>
          <li>{t('applyStep3')}</li>
          <li>{t('applyStep4')}</li>
        </ol>
        <p>
          <a href="/console/applications">{t('applyLink')}</a>
        </p>
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
