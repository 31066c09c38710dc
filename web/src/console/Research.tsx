// The researcher's data page (issue 14, R4.3): for a dataset, the participants (pseudonyms)
// whose files the caller may read now, with the clinical fields the server lets them see
// (GET /api/v1/datasets/{id}/clinical: never_public fields never, the newest submitted version,
// dates as days from the index date), filterable and downloadable as CSV, and for each CRAM/VCF
// a printed command for samtools/bcftools against htsget.
//
// The commands never carry the caller's token: the setup block reads it from a file the
// researcher writes with their personal token (made on the access-token page, shown once);
// the page prints a placeholder. The server's certificate is fetched once with openssl (the
// demo's is self-signed) and named in CURL_CA_BUNDLE.
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api';
import { useI18n, type Bilingual, type Lang } from '../i18n';
import { consolePath, navigate } from '../router';
import type { DatasetRow } from './Applications';
import type { DictField, Dictionary } from './Clinical';
import { errorWords } from './sharingText';
import { units } from '../codes';

const texts = {
  intro: {
    ja: '利用許可（または研究班）の範囲で今見られる参加者の臨床情報とファイルです。公開しない項目（生年、施設コードなど）は表示されません。日付はインデックス日からの日数です。',
    en: 'The clinical data and files of the participants you may see now under your grant (or research group). Fields never made public (birth year, site code, …) are not shown. Dates are days from the index date.',
  },
  dataset: { ja: 'データセット', en: 'Dataset' },
  none: { ja: '今見られる参加者はいません。', en: 'No participants you may see now.' },
  filter: { ja: '絞り込み（参加者ID・項目の値）', en: 'Filter (participant ID or field value)' },
  participants: { ja: '参加者', en: 'Participants' },
  participant: { ja: '参加者', en: 'Participant' },
  program: { ja: '事業', en: 'Programme' },
  clinical: { ja: '臨床情報', en: 'Clinical data' },
  files: { ja: 'ファイルと実行コマンド', en: 'Files and commands' },
  downloadCsv: { ja: '臨床情報を CSV で保存', en: 'Download clinical data as CSV' },
  setup: { ja: '準備（最初に一度）', en: 'Setup (once)' },
  setupHelp: {
    ja: 'トークンは「アクセス用トークン」のページで作成し（一度だけ表示されます）、下の「ここにトークン」を置き換えてください。このページはトークンを表示しません。',
    en: 'Make a token on the “Access tokens” page (it is shown once) and put it in place of “YOUR-TOKEN” below. This page never shows your token.',
  },
  copy: { ja: 'コピー', en: 'Copy' },
  copied: { ja: 'コピーしました', en: 'Copied' },
  commandFor: { ja: '{file} を読むコマンド', en: 'Command to read {file}' },
  categories: { ja: '{n} カテゴリ', en: '{n} categories' },
  noClinical: { ja: '確定済みの臨床情報はまだありません', en: 'No submitted clinical data yet' },
  day: { ja: '{n} 日', en: 'day {n}' },
  rows: { ja: '{n} 行', en: '{n} rows' },
} satisfies Record<string, Bilingual>;

const programNames: Record<string, Bilingual> = {
  cancer: { ja: 'がん', en: 'Cancer' },
  rare_disease: { ja: '難病', en: 'Rare disease' },
};

function useText() {
  const { lang } = useI18n();
  return (key: keyof typeof texts, vars: Record<string, string | number> = {}) =>
    texts[key][lang].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

interface ClinicalFile {
  id: string;
  kind: string;
  data_type: string;
  file_name: string;
  size: number;
}
interface ClinicalItem {
  participant_id: string;
  program: string;
  files: ClinicalFile[];
  clinical: Record<string, { version: number; data: Record<string, unknown> }>;
}

// A field's value in words: enum labels from the dictionary, days for rel_day, lists as rows.
function valueText(lang: Lang, dict: Dictionary, f: DictField | undefined, v: unknown): string {
  if (v === null || v === undefined) return '';
  const nf = typeof v === 'string' ? dict.null_flavours.find((n) => n.code === v) : undefined;
  if (nf) return nf.label[lang];
  if (!f) return typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (f.type === 'list' && Array.isArray(v)) {
    return v
      .map((row, i) => `${i + 1}) ` + Object.entries(row as Record<string, unknown>)
        .map(([k, x]) => {
          const sub = f.subfields?.find((s) => s.code === k);
          return `${sub ? sub.label[lang] : k}: ${valueText(lang, dict, sub, x)}`;
        })
        .join(', '))
      .join('; ');
  }
  if (f.type === 'enum') {
    const vs = f.values ?? (f.value_set ? (dict.value_sets[f.value_set] as any) : []);
    const values: { code: string; label: Bilingual }[] = Array.isArray(vs) ? vs : vs?.values ?? [];
    const hit = values.find((x) => x.code === v);
    return hit ? hit.label[lang] : String(v);
  }
  if (f.type === 'rel_day') return texts.day[lang].replace('{n}', String(v));
  if (f.type === 'bool') return v ? (lang === 'ja' ? 'はい' : 'yes') : lang === 'ja' ? 'いいえ' : 'no';
  if (!f.unit) return String(v);
  const u = units[f.unit]?.[lang] ?? f.unit;
  return lang === 'ja' && (f.unit === 'year' || f.unit === 'day') ? `${v}${u}` : `${v} ${u}`;
}

// htsget URL and tool for a file (CRAM/BAM through /reads with its format, VCF/BCF /variants).
export function commandFor(origin: string, f: ClinicalFile): string {
  const variants = f.data_type === 'vcf' || f.kind === 'vcf' || f.kind === 'bcf';
  const format = variants ? (f.kind === 'bcf' ? 'BCF' : 'VCF') : f.kind === 'bam' ? 'BAM' : 'CRAM';
  const url = `${origin}/ga4gh/htsget/v1/${variants ? 'variants' : 'reads'}/${encodeURIComponent(f.id)}?format=${format}`;
  return variants ? `bcftools view -H '${url}' | head` : `samtools view -c '${url}'`;
}

function setupBlock(lang: Lang, origin: string): string {
  const u = new URL(origin);
  const port = u.port || '443';
  const ja = lang === 'ja';
  return [
    ja ? '# 1. サーバー証明書を一度取得し、samtools/bcftools に信頼させる（自己署名の場合）' : '# 1. Fetch the server certificate once and let samtools/bcftools trust it (self-signed)',
    `openssl s_client -connect ${u.hostname}:${port} -servername ${u.hostname} </dev/null 2>/dev/null | openssl x509 > ~/zengen-server.crt`,
    'export CURL_CA_BUNDLE=~/zengen-server.crt',
    ja ? '# 2. 個人用トークンを自分だけが読めるファイルに置く' : '# 2. Put your personal token in a file only you can read',
    `(umask 077; printf '%s' '${ja ? 'ここにトークン' : 'YOUR-TOKEN'}' > ~/.zengen-token)`,
    'export HTS_AUTH_LOCATION=~/.zengen-token',
  ].join('\n');
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function ResearchPage({ selectedId }: { selectedId?: string }) {
  const { lang } = useI18n();
  const w = useText();
  const [datasets, setDatasets] = useState<DatasetRow[]>([]);
  const [dict, setDict] = useState<Dictionary | null>(null);
  const [items, setItems] = useState<ClinicalItem[] | null>(null);
  const [filter, setFilter] = useState('');
  const [copied, setCopied] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: DatasetRow[] }>('GET', '/api/v1/datasets')
      .then((r) => {
        const visible = r.items.filter((d) => d.visible_files > 0);
        setDatasets(visible);
        if (!selectedId && visible.length) navigate(consolePath('research', visible[0].id), { replace: true });
      })
      .catch((e) => setError(errorWords(lang, e)));
    api<Dictionary>('GET', '/api/v1/dictionary').then(setDict).catch(() => setDict(null));
  }, []);
  useEffect(() => {
    if (!selectedId) return;
    setItems(null);
    // The answer for a dataset chosen earlier may arrive after this one: it is dropped, so the
    // table never shows another dataset's participants under this one's name.
    let current = true;
    api<{ items: ClinicalItem[] }>('GET', `/api/v1/datasets/${encodeURIComponent(selectedId)}/clinical`)
      .then((r) => current && setItems(r.items))
      .catch((e) => current && setError(errorWords(lang, e)));
    return () => {
      current = false;
    };
  }, [selectedId]);
  const origin = window.location.origin;
  const fieldOf = (cat: string, code: string) =>
    dict?.categories.find((c) => c.code === cat)?.fields.find((f) => f.code === code);
  const catLabel = (cat: string) => dict?.categories.find((c) => c.code === cat)?.label[lang] ?? cat;
  // Flat text per participant for the filter and the CSV: "category.field" → value in words.
  const flat = useMemo(() => {
    const out = new Map<string, [string, string][]>();
    for (const it of items ?? []) {
      const pairs: [string, string][] = [];
      for (const [cat, rec] of Object.entries(it.clinical)) {
        for (const [code, v] of Object.entries(rec.data)) {
          if (dict) pairs.push([`${cat}.${code}`, valueText(lang, dict, fieldOf(cat, code), v)]);
        }
      }
      out.set(it.participant_id, pairs);
    }
    return out;
  }, [items, dict, lang]);
  const q = filter.trim().toLowerCase();
  const shown = (items ?? []).filter(
    (it) => !q || it.participant_id.toLowerCase().includes(q) || (flat.get(it.participant_id) ?? []).some(([, v]) => v.toLowerCase().includes(q)),
  );
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied('');
    }
  };
  const downloadCsv = () => {
    const columns = [...new Set(shown.flatMap((it) => (flat.get(it.participant_id) ?? []).map(([k]) => k)))];
    const header = ['participant_id', ...columns].map((c) => {
      if (c === 'participant_id') return csvCell(w('participant'));
      const [cat, code] = c.split('.');
      return csvCell(`${catLabel(cat)}: ${fieldOf(cat, code)?.label[lang] ?? code}`);
    });
    const lines = [header.join(',')];
    for (const it of shown) {
      const m = new Map(flat.get(it.participant_id) ?? []);
      lines.push([it.participant_id, ...columns.map((c) => m.get(c) ?? '')].map(csvCell).join(','));
    }
    // A BOM so that spreadsheet programs read the Japanese text as UTF-8.
    const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${selectedId ?? 'dataset'}-clinical.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const setup = setupBlock(lang, origin);
  return (
    <div className="sharing">
      <section className="card" aria-labelledby="h-research">
        <h2 id="h-research">{w('participants')}</h2>
        <p className="muted">{w('intro')}</p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="filters">
          <label>
            {w('dataset')}
            <select value={selectedId ?? ''} onChange={(e) => navigate(consolePath('research', e.target.value))}>
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name[lang]}
                </option>
              ))}
            </select>
          </label>
          <label>
            {w('filter')}
            <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
          <button type="button" onClick={downloadCsv} disabled={!shown.length}>
            {w('downloadCsv')}
          </button>
        </div>
      </section>
      <section className="card" aria-labelledby="h-setup">
        <h3 id="h-setup">{w('setup')}</h3>
        <p className="muted">{w('setupHelp')}</p>
        <pre tabIndex={0} aria-label={w('setup')} data-testid="research-setup">
          <code>{setup}</code>
        </pre>
        <button type="button" onClick={() => copy(setup, 'setup')} aria-label={`${w('copy')}: ${w('setup')}`}>
          {w('copy')}
        </button>
        {copied === 'setup' && <span role="status"> {w('copied')}</span>}
      </section>
      {items && items.length === 0 && <p className="muted">{w('none')}</p>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table data-testid="research-table" aria-labelledby="h-research">
            <thead>
              <tr>
                <th scope="col">{w('participant')}</th>
                <th scope="col">{w('program')}</th>
                <th scope="col">{w('clinical')}</th>
                <th scope="col">{w('files')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((it) => (
                <tr key={it.participant_id} data-participant={it.participant_id}>
                  <td className="mono">{it.participant_id}</td>
                  <td>{programNames[it.program]?.[lang] ?? it.program}</td>
                  <td>
                    {Object.keys(it.clinical).length === 0 ? (
                      <span className="muted">{w('noClinical')}</span>
                    ) : (
                      <details data-testid="research-clinical">
                        <summary>{w('categories', { n: Object.keys(it.clinical).length })}</summary>
                        {Object.entries(it.clinical).map(([cat, rec]) => (
                          <dl key={cat} data-category={cat}>
                            <dt className="category">{catLabel(cat)}</dt>
                            {Object.entries(rec.data).map(([code, v]) => (
                              <div key={code} data-field={`${cat}.${code}`}>
                                <dt>{fieldOf(cat, code)?.label[lang] ?? code}</dt>
                                <dd>{dict ? valueText(lang, dict, fieldOf(cat, code), v) : ''}</dd>
                              </div>
                            ))}
                          </dl>
                        ))}
                      </details>
                    )}
                  </td>
                  <td>
                    {it.files.map((f) => {
                      const cmd = commandFor(origin, f);
                      return (
                        <div key={f.id} className="command" data-file={f.id} data-kind={f.kind}>
                          <div>
                            {f.file_name} ({f.data_type.toUpperCase()})
                          </div>
                          <pre tabIndex={0} aria-label={w('commandFor', { file: f.file_name })} data-testid="research-command">
                            <code>{cmd}</code>
                          </pre>
                          <button type="button" onClick={() => copy(cmd, f.id)} aria-label={`${w('copy')}: ${w('commandFor', { file: f.file_name })}`}>
                            {w('copy')}
                          </button>
                          {copied === f.id && <span role="status"> {w('copied')}</span>}
                        </div>
                      );
                    })}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
