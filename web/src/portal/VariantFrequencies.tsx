// The portal's allele frequencies of released data (issue 15; R5.1, R4.9): a gene or a region,
// then a table of sites with AC, AN and AF per public release and consent class. Every figure
// arrives protected by the server's disclosure control: a number is the lower end of a band of
// ten, "<10" is 0–9, "x" is withheld; AF is computed by the server from the bands.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { describeError } from '../codes';
import { useI18n, type TextKey } from '../i18n';

type Count = number | string;
interface Cell {
  release: string;
  class: string;
  ac: Count;
  an: Count;
  af: number | null;
}
interface SiteRow {
  chrom: string;
  pos: number;
  ref: string;
  alt: string;
  cells: Cell[];
}
interface Answer {
  region: { chrom: string; start: number; end: number; gene?: string };
  releases: string[];
  classes: string[];
  computed_at: string | null;
  page: number;
  page_size: number;
  total_sites: number;
  sites: SiteRow[];
}

const PAGE_SIZE = 50;

// A published count as text: "<10", "x", or the band "10–19".
function countText(c: Count, withheld: string): string {
  if (typeof c === 'number') return `${c}–${c + 9}`;
  return c === 'x' ? withheld : c;
}

export function VariantFrequencies() {
  const { t, lang } = useI18n();
  const [mode, setMode] = useState<'gene' | 'region'>('gene');
  const [gene, setGene] = useState('');
  const [chrom, setChrom] = useState('');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Release titles from the public calendar (the answer names releases by id).
  const [titles, setTitles] = useState<Record<string, { ja: string; en: string }>>({});
  useEffect(() => {
    api<{ items: { id: string; title: { ja: string; en: string } }[] }>('GET', '/api/v1/portal/releases')
      .then((c) => setTitles(Object.fromEntries(c.items.map((i) => [i.id, i.title]))))
      .catch(() => setTitles({}));
  }, []);

  const load = async (page: number) => {
    const q = new URLSearchParams();
    if (mode === 'gene') q.set('gene', gene.trim());
    else {
      q.set('chrom', chrom.trim());
      q.set('start', start.trim());
      q.set('end', end.trim());
    }
    q.set('page', String(page));
    q.set('page_size', String(PAGE_SIZE));
    setBusy(true);
    setError(null);
    try {
      setAnswer(await api<Answer>('GET', `/api/v1/portal/variant-frequencies?${q.toString()}`));
    } catch (e) {
      setAnswer(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const classLabel = (c: string) => t(`afClass_${c}` as TextKey);
  const pages = answer ? Math.max(1, Math.ceil(answer.total_sites / answer.page_size)) : 1;
  return (
    <div className="portal">
      <h1>{t('afTitle')}</h1>
      <p className="intro">{t('afIntro')}</p>
      <form
        className="card"
        aria-labelledby="h-af-search"
        onSubmit={(e) => {
          e.preventDefault();
          void load(1);
        }}
      >
        <h2 id="h-af-search">{t('afSearch')}</h2>
        <fieldset>
          <legend>{t('afSearchBy')}</legend>
          <label>
            <input type="radio" name="af-mode" checked={mode === 'gene'} onChange={() => setMode('gene')} /> {t('afByGene')}
          </label>{' '}
          <label>
            <input type="radio" name="af-mode" checked={mode === 'region'} onChange={() => setMode('region')} /> {t('afByRegion')}
          </label>
        </fieldset>
        {mode === 'gene' ? (
          <label>
            {t('afGene')} <input data-testid="af-gene" value={gene} onChange={(e) => setGene(e.target.value)} required />
          </label>
        ) : (
          <>
            <label>
              {t('afChrom')} <input data-testid="af-chrom" value={chrom} onChange={(e) => setChrom(e.target.value)} required />
            </label>{' '}
            <label>
              {t('afStart')} <input data-testid="af-start" inputMode="numeric" value={start} onChange={(e) => setStart(e.target.value)} required />
            </label>{' '}
            <label>
              {t('afEnd')} <input data-testid="af-end" inputMode="numeric" value={end} onChange={(e) => setEnd(e.target.value)} required />
            </label>
          </>
        )}{' '}
        <button type="submit" disabled={busy} data-testid="af-submit">
          {t('afShow')}
        </button>
      </form>
      {error ? (
        <p role="alert" className="error" data-testid="af-error">
          {describeError(lang, error)}
        </p>
      ) : null}
      {answer ? (
        <section className="card" aria-labelledby="h-af-result">
          <h2 id="h-af-result">
            {answer.region.gene ? `${answer.region.gene} · ` : ''}
            {answer.region.chrom}:{answer.region.start}-{answer.region.end}
          </h2>
          <p data-testid="af-computed">
            {t('lastUpdate')}: {answer.computed_at ? answer.computed_at.replace('T', ' ').replace('Z', ' UTC') : '—'} ·{' '}
            {t('afSiteCount', { n: answer.total_sites })}
          </p>
          {answer.sites.length === 0 ? (
            <p data-testid="af-none">{answer.releases.length === 0 ? t('afNoReleases') : t('afNoSites')}</p>
          ) : (
            <div className="table-scroll">
              <table data-testid="af-table">
                <caption>{t('afTableCaption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('afSite')}</th>
                    <th scope="col">{t('afRelease')}</th>
                    <th scope="col">{t('afConsentClass')}</th>
                    <th scope="col">AC</th>
                    <th scope="col">AN</th>
                    <th scope="col">AF</th>
                  </tr>
                </thead>
                <tbody>
                  {answer.sites.flatMap((s) =>
                    s.cells.map((c, i) => (
                      <tr key={`${s.chrom}:${s.pos}:${s.ref}:${s.alt}:${c.release}:${c.class}`}>
                        {i === 0 ? (
                          <th scope="row" rowSpan={s.cells.length}>
                            {s.chrom}:{s.pos} {s.ref}&gt;{s.alt}
                          </th>
                        ) : null}
                        <td>{titles[c.release]?.[lang] ?? c.release}</td>
                        <td>{classLabel(c.class)}</td>
                        <td data-testid="af-ac">{countText(c.ac, t('afWithheld'))}</td>
                        <td>{countText(c.an, t('afWithheld'))}</td>
                        <td>{c.af === null ? '—' : c.af.toFixed(3)}</td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
            </div>
          )}
          {pages > 1 ? (
            <nav aria-label={t('afPages')}>
              <button type="button" disabled={busy || answer.page <= 1} onClick={() => void load(answer.page - 1)}>
                {t('afPrev')}
              </button>{' '}
              {t('afPageOf', { page: answer.page, pages })}{' '}
              <button type="button" disabled={busy || answer.page >= pages} onClick={() => void load(answer.page + 1)}>
                {t('afNext')}
              </button>
            </nav>
          ) : null}
          <p className="note">{t('afNote')}</p>
        </section>
      ) : null}
    </div>
  );
}
