// The cohort builder (issue 15): clinical filters × a gene or region → allele counts and
// frequencies over the samples the caller may see now (the server's gate decides per sample;
// a withdrawn participant is simply absent), carriers of one variant where the caller may read
// records, and the per-participant table as CSV.
import { useEffect, useState } from 'react';
import { ApiError, api } from '../api';
import { describeError } from '../codes';
import type { Bilingual } from '../i18n';
import { useI18n } from '../i18n';

const b = (ja: string, en: string): Bilingual => ({ ja, en });
const words = {
  title: b('コホート検索', 'Cohort builder'),
  intro: b(
    '遺伝子または領域と臨床条件を指定すると、あなたが今閲覧できる参加者（同意が有効で、許可の範囲内）の中で、各変異の保有数と頻度を示します。',
    'Give a gene or a region and clinical filters: each variant is counted over the participants you may see now (live consent, within your grant).',
  ),
  gene: b('遺伝子', 'Gene'),
  orRegion: b('または領域', 'or region'),
  chrom: b('染色体', 'Chromosome'),
  start: b('開始', 'Start'),
  end: b('終了', 'End'),
  diagnosis: b('診断（ICD-10 の先頭）', 'Diagnosis (ICD-10 prefix)'),
  stage: b('病期', 'Stage'),
  sex: b('性別', 'Sex'),
  any: b('指定なし', 'Any'),
  male: b('男性', 'Male'),
  female: b('女性', 'Female'),
  ageBand: b('年齢階級（例 50-59）', 'Age band (e.g. 50-59)'),
  search: b('検索', 'Search'),
  samples: b('対象の検体数', 'Samples counted'),
  noSites: b('条件に合う変異はありません', 'No variant matches'),
  pos: b('位置', 'Position'),
  id: b('ID', 'ID'),
  change: b('変異', 'Change'),
  ac: b('アレル数（AC）', 'Allele count (AC)'),
  an: b('総アレル数（AN）', 'Allele number (AN)'),
  af: b('頻度（AF）', 'Frequency (AF)'),
  carriers: b('保有者', 'Carriers'),
  show: b('表示', 'Show'),
  het: b('ヘテロ接合', 'heterozygous'),
  hom: b('ホモ接合', 'homozygous'),
  noCarriers: b('閲覧できる保有者はいません', 'No carrier you may see'),
  exportCsv: b('参加者ごとの表（CSV）を保存', 'Save the per-participant table (CSV)'),
  grant: b('この検索に使う利用承認', 'The grant this query is for'),
  chooseGrant: b('選んでください', 'Choose one'),
  commercial: b('商用', 'commercial'),
};

interface SiteRow {
  chrom: string;
  pos: number;
  id: string;
  ref: string;
  alt: string;
  ac: number;
  an: number;
  af: number;
}
interface Counts {
  samples: number;
  sites: SiteRow[];
}
interface Grant {
  id: string;
  holder: string;
  status: string;
  purpose: { primary: string; commercial?: boolean };
}
interface Carrier {
  participant_id: string;
  genotype: 'het' | 'hom';
}

export function CohortPage() {
  const { lang } = useI18n();
  const w = (k: keyof typeof words) => words[k][lang];
  const [form, setForm] = useState({ gene: '', chrom: '', start: '', end: '', diagnosis: '', stage: '', sex: '', age_band: '' });
  const [counts, setCounts] = useState<Counts | null>(null);
  const [carriers, setCarriers] = useState<{ site: SiteRow; list: Carrier[] } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // A caller holding several active grants names the one a query is for (the server refuses
  // a query over several grants with grant_required).
  const [grants, setGrants] = useState<Grant[]>([]);
  const [grant, setGrant] = useState('');
  useEffect(() => {
    api<{ items: Grant[] }>('GET', '/api/v1/grants')
      .then((r) => setGrants(r.items.filter((g) => g.status === 'active')))
      .catch(() => setGrants([]));
  }, []);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const query = () => {
    const q = new URLSearchParams();
    if (form.gene) q.set('gene', form.gene);
    else {
      q.set('chrom', form.chrom);
      if (form.start) q.set('start', form.start);
      if (form.end) q.set('end', form.end);
    }
    for (const k of ['diagnosis', 'stage', 'sex', 'age_band'] as const) if (form[k]) q.set(k, form[k]);
    if (grant) q.set('grant', grant);
    return q;
  };
  const search = async (e: { preventDefault: () => void }) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setCarriers(null);
    try {
      setCounts(await api<Counts>('GET', `/api/v1/variants/counts?${query()}`));
    } catch (err) {
      setCounts(null);
      setError(describeError(lang, err));
    } finally {
      setBusy(false);
    }
  };
  const showCarriers = async (site: SiteRow) => {
    const q = query();
    for (const k of ['gene', 'start', 'end']) q.delete(k);
    q.set('chrom', site.chrom);
    q.set('pos', String(site.pos));
    q.set('ref', site.ref);
    q.set('alt', site.alt);
    try {
      const r = await api<{ carriers: Carrier[] }>('GET', `/api/v1/variants/carriers?${q}`);
      setCarriers({ site, list: r.carriers });
    } catch (err) {
      setError(describeError(lang, err));
    }
  };
  const exportCsv = async () => {
    const q = query();
    q.set('format', 'csv');
    const resp = await fetch(`/api/v1/variants/export?${q}`, { credentials: 'same-origin' });
    if (!resp.ok) {
      const body = await resp.json().catch(() => null);
      setError(describeError(lang, new ApiError(resp.status, body?.error?.code ?? 'http_error', body?.error?.message ?? '', body?.error?.field)));
      return;
    }
    const url = URL.createObjectURL(await resp.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = 'cohort.csv';
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <section className="card" aria-labelledby="h-cohort">
      <h2 id="h-cohort">{w('title')}</h2>
      <p className="muted">{w('intro')}</p>
      <form onSubmit={search} data-testid="cohort-form">
        <label>
          {w('gene')} <input value={form.gene} onChange={set('gene')} />
        </label>
        <fieldset>
          <legend>{w('orRegion')}</legend>
          <label>
            {w('chrom')} <input value={form.chrom} onChange={set('chrom')} disabled={!!form.gene} />
          </label>
          <label>
            {w('start')} <input inputMode="numeric" value={form.start} onChange={set('start')} disabled={!!form.gene} />
          </label>
          <label>
            {w('end')} <input inputMode="numeric" value={form.end} onChange={set('end')} disabled={!!form.gene} />
          </label>
        </fieldset>
        <label>
          {w('diagnosis')} <input value={form.diagnosis} onChange={set('diagnosis')} />
        </label>
        <label>
          {w('stage')} <input value={form.stage} onChange={set('stage')} />
        </label>
        <label>
          {w('sex')}{' '}
          <select value={form.sex} onChange={set('sex')}>
            <option value="">{w('any')}</option>
            <option value="male">{w('male')}</option>
            <option value="female">{w('female')}</option>
          </select>
        </label>
        <label>
          {w('ageBand')} <input value={form.age_band} onChange={set('age_band')} />
        </label>
        {grants.length > 1 && (
          <label>
            {w('grant')}{' '}
            <select value={grant} onChange={(e) => setGrant(e.target.value)} data-testid="cohort-grant">
              <option value="">{w('chooseGrant')}</option>
              {grants.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.id} ({g.purpose.primary}
                  {g.purpose.commercial ? `, ${w('commercial')}` : ''})
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit" disabled={busy}>
          {w('search')}
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {counts && (
        <>
          <p data-testid="cohort-samples">
            {w('samples')}: {counts.samples}
          </p>
          {counts.sites.length === 0 ? (
            <p className="muted">{w('noSites')}</p>
          ) : (
            <div className="table-wrap">
              <table data-testid="cohort-sites" aria-labelledby="h-cohort">
                <thead>
                  <tr>
                    <th scope="col">{w('pos')}</th>
                    <th scope="col">{w('id')}</th>
                    <th scope="col">{w('change')}</th>
                    <th scope="col">{w('ac')}</th>
                    <th scope="col">{w('an')}</th>
                    <th scope="col">{w('af')}</th>
                    <th scope="col">{w('carriers')}</th>
                  </tr>
                </thead>
                <tbody>
                  {counts.sites.map((s) => (
                    <tr key={`${s.chrom}:${s.pos}:${s.ref}:${s.alt}`}>
                      <td>
                        {s.chrom}:{s.pos}
                      </td>
                      <td>{s.id}</td>
                      <td>
                        {s.ref}&gt;{s.alt}
                      </td>
                      <td>{s.ac}</td>
                      <td>{s.an}</td>
                      <td>{s.af.toFixed(4)}</td>
                      <td>
                        <button type="button" onClick={() => showCarriers(s)}>
                          {w('show')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <button type="button" onClick={exportCsv}>
            {w('exportCsv')}
          </button>
        </>
      )}
      {carriers && (
        <div data-testid="cohort-carriers">
          <h3>
            {w('carriers')}: {carriers.site.chrom}:{carriers.site.pos} {carriers.site.ref}&gt;{carriers.site.alt}
          </h3>
          {carriers.list.length === 0 ? (
            <p className="muted">{w('noCarriers')}</p>
          ) : (
            <ul>
              {carriers.list.map((c) => (
                <li key={c.participant_id}>
                  {c.participant_id} ({w(c.genotype)})
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
