// The sequencing facility's uploads and QC page (issue 5): open a run for a held specimen,
// upload its FASTQ files with the resumable chunked API, see the QC verdict and the custody
// state it led to. Also the data file page (metadata, hashes, derived_from) for analysts and
// stewards.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, sendBytes, type SessionInfo } from '../api';
import { Chart } from '../Chart';
import { useI18n, type TextKey } from '../i18n';
import { uploadErrorLabel } from '../labels';
import { sha256File } from '../sha256';
import { codeLabel, describeError, specimenStates, specimenTypes, tumourNormal } from '../codes';

interface Specimen {
  id: string;
  participant_id: string;
  tumour_normal: string;
  specimen_type: string;
  state: string;
  holder: string;
}

export interface Verdict {
  pass: boolean;
  reasons: string[];
  instrument_model: string;
  non_standard_instrument: boolean;
}

export interface FastqReport {
  reads: number;
  bases: number;
  mean_quality: number;
  q30_fraction: number;
  gc_fraction: number;
  n_rate: number;
  min_length: number;
  max_length: number;
  per_position_mean_quality: number[];
  gzip: boolean;
}

export interface DataFile {
  id: string;
  kind: string;
  specimen_id: string;
  participant_id: string;
  run_id: string | null;
  read: number | null;
  file_name: string;
  uploaded_sha256: string;
  uploaded_md5: string | null;
  uploaded_size: number;
  sha256: string;
  size: number;
  index_kind: string | null;
  report: any;
  derived_from: string[];
  created_by: string;
  created_at: string;
}

interface Run {
  id: string;
  specimen_id: string;
  organisation: string;
  instrument_model: string;
  flowcell: string;
  library: string;
  layout: 'single' | 'paired';
  status: 'open' | 'qc_passed' | 'qc_failed';
  non_standard_instrument: boolean;
  verdict: Verdict | null;
  created_by: string;
  created_at: string;
  files?: DataFile[];
}

interface UploadState {
  id: string;
  chunk_size: number;
  chunks: number;
  status: 'open' | 'complete' | 'rejected';
  missing: number[];
  present: number[];
  sha256: string;
  size: number;
  error: { code: string; message: string } | null;
}

// The instruments the programme runs (R3.5-5); anything else is accepted and flagged.
const standardInstruments = ['NovaSeq X', 'NovaSeq X Plus', 'NovaSeq 6000'];

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function ErrorBox({ error, testId }: { error: ApiError; testId?: string }) {
  const { t, lang } = useI18n();
  return (
    <div className="problems" role="alert" data-testid={testId}>
      <strong>
        {t('uploadRejected')}: {uploadErrorLabel(lang, error.code)}
      </strong>
      <div>
        <code>{error.code}</code> — {error.message}
      </div>
    </div>
  );
}

// ---- one file slot: hash, create or resume, send the missing chunks, complete ------------------

type Phase = 'idle' | 'hashing' | 'sending' | 'completing' | 'done' | 'interrupted' | 'rejected';

function chunkSizeFor(size: number): number {
  // About 64 chunks per file, between the server's 64 KiB minimum and 8 MiB.
  let c = 64 << 10;
  while (c < 8 << 20 && c * 64 < size) c *= 2;
  return c;
}

function storageKey(runId: string, read: number): string {
  return `zengen.upload.${runId}.${read}`;
}

function UploadSlot({ run, read, taken, onDone }: { run: Run; read: number; taken: boolean; onDone: () => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>('idle');
  const [hashFraction, setHashFraction] = useState(0);
  const [sendFraction, setSendFraction] = useState(0);
  const [sha, setSha] = useState('');
  const [uploadId, setUploadId] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<{ custody: string[] } | null>(null);
  const inputId = `file-${run.id}-${read}`;

  // The open upload for this run and read, if one exists for these very bytes.
  const findOpen = async (digest: string, f: File): Promise<UploadState | null> => {
    const candidates: string[] = [];
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey(run.id, read)) ?? 'null');
      if (saved?.id) candidates.push(saved.id);
    } catch {
      // nothing saved
    }
    if (uploadId) candidates.unshift(uploadId);
    for (const id of candidates) {
      try {
        const u = await api<UploadState>('GET', `/api/v1/uploads/${id}`);
        if (u.status === 'open' && u.sha256 === digest && u.size === f.size) return u;
      } catch {
        // gone or not ours: start anew
      }
    }
    return null;
  };

  const start = async () => {
    if (!file) return;
    setError(null);
    setResult(null);
    try {
      let digest = sha;
      if (!digest) {
        setPhase('hashing');
        digest = await sha256File(file, setHashFraction);
        setSha(digest);
      }
      let u = await findOpen(digest, file);
      if (!u) {
        try {
          u = await api<UploadState>('POST', '/api/v1/uploads', {
            kind: 'fastq', run_id: run.id, read, file_name: file.name, size: file.size, sha256: digest,
            chunk_size: chunkSizeFor(file.size),
          });
        } catch (e) {
          // An upload of this read left open by an earlier session: resume it when it holds the
          // same bytes (the server names it in the conflict).
          const err = e as ApiError;
          const m = err.code === 'read_taken' ? /UP-[0-9A-F]{16}/.exec(err.message) : null;
          const other = m ? await api<UploadState>('GET', `/api/v1/uploads/${m[0]}`).catch(() => null) : null;
          if (other && other.status === 'open' && other.sha256 === digest && other.size === file.size) u = other;
          else throw e;
        }
      }
      setUploadId(u.id);
      localStorage.setItem(storageKey(run.id, read), JSON.stringify({ id: u.id, sha256: digest }));
      setPhase('sending');
      for (let attempt = 0; attempt < 2; attempt++) {
        const total = u.chunks;
        let done = total - u.missing.length;
        setSendFraction(done / total);
        for (const i of u.missing) {
          const begin = i * u.chunk_size;
          const blob = file.slice(begin, Math.min(file.size, begin + u.chunk_size));
          await sendBytes('PUT', `/api/v1/uploads/${u.id}/chunks/${i}`, blob, 'application/octet-stream', (f) =>
            setSendFraction((done + f) / total),
          );
          done += 1;
          setSendFraction(done / total);
        }
        setPhase('completing');
        try {
          const c = await api<{ custody: string[] }>('POST', `/api/v1/uploads/${u.id}/complete`);
          localStorage.removeItem(storageKey(run.id, read));
          setResult(c);
          setPhase('done');
          onDone();
          return;
        } catch (e) {
          if ((e as ApiError).code !== 'chunks_missing' || attempt > 0) throw e;
          u = await api<UploadState>('GET', `/api/v1/uploads/${u.id}`);
          setPhase('sending');
        }
      }
    } catch (e) {
      const err = e as ApiError;
      setError(err);
      if (err.status === 0 || err.code === 'chunks_missing') {
        setPhase('interrupted');
      } else {
        setPhase('rejected');
        if (err.status === 400) localStorage.removeItem(storageKey(run.id, read));
      }
    }
  };

  const busy = phase === 'hashing' || phase === 'sending' || phase === 'completing';
  return (
    <div className="upload-slot" data-testid={`slot-${read}`}>
      <label htmlFor={inputId}>{t(read === 1 ? 'fastqRead1' : 'fastqRead2')}</label>
      <div className="input-row">
        <input
          id={inputId}
          type="file"
          accept=".fastq,.fq,.gz,.fastq.gz,.fq.gz"
          disabled={busy}
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setSha('');
            setPhase('idle');
            setError(null);
            setHashFraction(0);
            setSendFraction(0);
          }}
        />
        {phase === 'interrupted' ? (
          <button type="button" className="primary" onClick={start}>
            {t('resumeUpload')}
          </button>
        ) : (
          <button type="button" className="primary" disabled={!file || busy || phase === 'done' || (taken && phase === 'idle')} onClick={start}>
            {t('startUpload')}
          </button>
        )}
      </div>
      {file && (
        <div className="progress-rows">
          <label>
            {t('hashProgress')} ({Math.round(hashFraction * 100)}%)
            <progress max={1} value={hashFraction} />
          </label>
          <label>
            {t('sendProgress')} ({Math.round(sendFraction * 100)}%)
            <progress max={1} value={sendFraction} data-testid={`progress-${read}`} />
          </label>
        </div>
      )}
      <p role="status" data-testid={`upload-status-${read}`}>
        {phase !== 'idle' && t(`phase_${phase}` as TextKey)}
        {phase === 'idle' && taken && t('alreadyUploaded')}
        {uploadId && <span className="muted"> · {uploadId}</span>}
        {sha && <span className="muted mono"> · SHA-256 {sha.slice(0, 16)}…</span>}
        {result && result.custody.length > 0 && ` · ${t('custodyMoved')}: ${result.custody.join(' → ')}`}
      </p>
      {error && <ErrorBox error={error} testId={`upload-error-${read}`} />}
    </div>
  );
}

// ---- QC --------------------------------------------------------------------------------------

export function QcSummary({ files }: { files: DataFile[] }) {
  const { t } = useI18n();
  const fastq = files.filter((f) => f.kind === 'fastq' && f.report);
  const option = useMemo(() => {
    const longest = Math.max(0, ...fastq.map((f) => f.report.per_position_mean_quality?.length ?? 0));
    return {
      tooltip: { trigger: 'axis' },
      legend: {},
      grid: { left: 48, right: 16, top: 32, bottom: 40 },
      xAxis: { type: 'category', name: t('position'), nameLocation: 'middle', nameGap: 26, data: Array.from({ length: longest }, (_, i) => i + 1) },
      yAxis: { type: 'value', name: t('meanQuality'), min: 0, max: 45 },
      series: fastq.map((f) => ({
        type: 'line',
        name: `R${f.read ?? 1}`,
        showSymbol: false,
        data: f.report.per_position_mean_quality,
      })),
    };
  }, [files, t]);
  if (fastq.length === 0) return null;
  return (
    <div>
      <table data-testid="qc-table">
        <caption>{t('qcMetrics')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('file')}</th>
            <th scope="col">{t('reads')}</th>
            <th scope="col">{t('bases')}</th>
            <th scope="col">{t('meanQuality')}</th>
            <th scope="col">Q30</th>
            <th scope="col">GC</th>
            <th scope="col">{t('nRate')}</th>
            <th scope="col">{t('readLength')}</th>
          </tr>
        </thead>
        <tbody>
          {fastq.map((f) => (
            <tr key={f.id}>
              <th scope="row">
                R{f.read ?? 1} {f.file_name}
              </th>
              <td>{f.report.reads.toLocaleString()}</td>
              <td>{f.report.bases.toLocaleString()}</td>
              <td>{f.report.mean_quality.toFixed(1)}</td>
              <td>{pct(f.report.q30_fraction)}</td>
              <td>{pct(f.report.gc_fraction)}</td>
              <td>{pct(f.report.n_rate)}</td>
              <td>
                {f.report.min_length}–{f.report.max_length}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>{t('perPositionQuality')}</h4>
      <Chart option={option} label={`${t('perPositionQuality')}${t('chartOf')}`} testId="qc-chart" />
      <details>
        <summary>{t('showTable')}</summary>
        <div className="table-wrap" tabIndex={0} role="region" aria-label={t('perPositionQuality')}>
          <table>
            <caption>{t('perPositionQuality')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('position')}</th>
                {fastq.map((f) => (
                  <th scope="col" key={f.id}>
                    R{f.read ?? 1}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(fastq[0].report.per_position_mean_quality as number[]).map((_, i) => (
                <tr key={i}>
                  <td>{i + 1}</td>
                  {fastq.map((f) => (
                    <td key={f.id}>{f.report.per_position_mean_quality[i]?.toFixed(1) ?? '—'}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

export function VerdictView({ run }: { run: Run }) {
  const { t } = useI18n();
  return (
    <div className="verdict">
      <p>
        {t('qcVerdict')}:{' '}
        <strong data-testid="qc-verdict" className={run.status === 'qc_failed' ? 'bad' : run.status === 'qc_passed' ? 'good' : ''}>
          {run.status === 'open' ? t('runOpen') : run.status === 'qc_passed' ? `✔ ${t('qcPass')}` : `✖ ${t('qcFail')}`}
        </strong>
        {run.non_standard_instrument && (
          <span className="flag" data-testid="non-standard">
            ⚠ {t('nonStandardInstrument')}: {run.instrument_model}
          </span>
        )}
      </p>
      {run.verdict && run.verdict.reasons.length > 0 && (
        <ul aria-label={t('qcReasons')} data-testid="qc-reasons">
          {run.verdict.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function RunDetail({ id, onChanged, onOpenFile }: { id: string; onChanged: () => void; onOpenFile: (id: string) => void }) {
  const { t, lang } = useI18n();
  const [run, setRun] = useState<Run | null>(null);
  const [custody, setCustody] = useState('');
  const load = async () => {
    // Both answers first, then one render: the verdict never shows beside a stale custody state.
    const r = await api<Run>('GET', `/api/v1/runs/${id}`);
    const s = await api<Specimen>('GET', `/api/v1/specimens/${r.specimen_id}`).catch(() => null);
    setRun(r);
    setCustody(s?.state ?? '');
  };
  useEffect(() => {
    load();
  }, [id]);
  if (!run) return <p aria-busy="true">{t('loading')}</p>;
  const reads = run.layout === 'paired' ? [1, 2] : [1];
  const taken = new Set((run.files ?? []).map((f) => f.read));
  return (
    <section className="card" aria-labelledby="h-run">
      <h3 id="h-run" data-testid="run-title">
        {t('run')} {run.id}
      </h3>
      <dl className="facts">
        <div>
          <dt>{t('specimenId')}</dt>
          <dd>{run.specimen_id}</dd>
        </div>
        <div>
          <dt>{t('instrument')}</dt>
          <dd>{run.instrument_model}</dd>
        </div>
        <div>
          <dt>{t('flowcell')}</dt>
          <dd>{run.flowcell}</dd>
        </div>
        <div>
          <dt>{t('library')}</dt>
          <dd>{run.library}</dd>
        </div>
        <div>
          <dt>{t('layout')}</dt>
          <dd>{t(run.layout === 'paired' ? 'layoutPaired' : 'layoutSingle')}</dd>
        </div>
        <div>
          <dt>{t('custodyState')}</dt>
          <dd data-testid="custody-state" data-state={custody}>{custody ? codeLabel(specimenStates, lang, custody) : '—'}</dd>
        </div>
      </dl>
      <VerdictView run={run} />
      {run.status === 'open' && (
        <div className="card">
          <h4>{t('uploadFastq')}</h4>
          <p className="muted">{t('uploadHelp')}</p>
          {reads.map((r) => (
            <UploadSlot key={r} run={run} read={r} taken={taken.has(r)} onDone={() => {
              load();
              onChanged();
            }} />
          ))}
        </div>
      )}
      {(run.files ?? []).length > 0 && (
        <ul className="file-links" aria-label={t('files')}>
          {(run.files ?? []).map((f) => (
            <li key={f.id}>
              <button type="button" className="link" onClick={() => onOpenFile(f.id)}>
                {f.id}
              </button>{' '}
              R{f.read} {f.file_name}
            </li>
          ))}
        </ul>
      )}
      <QcSummary files={run.files ?? []} />
    </section>
  );
}

function OpenRunForm({ specimens, onOpened }: { specimens: Specimen[]; onOpened: (id: string) => void }) {
  const { t, lang } = useI18n();
  const eligible = specimens.filter((s) => s.state === 'library_prepared' || s.state === 'sequenced');
  const [specimen, setSpecimen] = useState('');
  const [instrument, setInstrument] = useState(standardInstruments[0]);
  const [flowcell, setFlowcell] = useState('');
  const [library, setLibrary] = useState('');
  const [layout, setLayout] = useState<'paired' | 'single'>('paired');
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (!specimen && eligible.length) setSpecimen(eligible[0].id);
  }, [specimens]);
  return (
    <form
      className="card"
      aria-labelledby="h-open-run"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          const r = await api<Run>('POST', '/api/v1/runs', { specimen_id: specimen, instrument_model: instrument, flowcell, library, layout });
          setFlowcell('');
          setLibrary('');
          onOpened(r.id);
        } catch (err) {
          setError(err as ApiError);
        }
      }}
    >
      <h3 id="h-open-run">{t('openRun')}</h3>
      <div className="filters">
        <label>
          {t('specimenId')}
          <select value={specimen} onChange={(e) => setSpecimen(e.target.value)} required data-testid="run-specimen">
            {eligible.map((s) => (
              <option key={s.id} value={s.id}>
                {s.id} ({codeLabel(tumourNormal, lang, s.tumour_normal)} / {codeLabel(specimenTypes, lang, s.specimen_type)}, {codeLabel(specimenStates, lang, s.state)})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('instrument')}
          <input list="instruments" value={instrument} onChange={(e) => setInstrument(e.target.value)} required maxLength={100} />
          <datalist id="instruments">
            {standardInstruments.map((i) => (
              <option key={i} value={i} />
            ))}
          </datalist>
        </label>
        <label>
          {t('flowcell')}
          <input value={flowcell} onChange={(e) => setFlowcell(e.target.value)} required maxLength={100} />
        </label>
        <label>
          {t('library')}
          <input value={library} onChange={(e) => setLibrary(e.target.value)} required maxLength={100} />
        </label>
        <fieldset className="field">
          <legend>{t('layout')}</legend>
          {(['paired', 'single'] as const).map((l) => (
            <label key={l} className="radio">
              <input type="radio" name="layout" value={l} checked={layout === l} onChange={() => setLayout(l)} />
              {t(l === 'paired' ? 'layoutPaired' : 'layoutSingle')}
            </label>
          ))}
        </fieldset>
      </div>
      <p className="muted">{t('instrumentHelp')}</p>
      <button type="submit" className="primary" disabled={!specimen}>
        {t('openRun')}
      </button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

export function UploadsPage({ session }: { session: SessionInfo }) {
  const { t } = useI18n();
  const [specimens, setSpecimens] = useState<Specimen[]>([]);
  const [runs, setRuns] = useState<Run[]>([]);
  const [picked, setPicked] = useState('');
  const [file, setFile] = useState('');
  const load = () => {
    api<{ items: Specimen[] }>('GET', `/api/v1/specimens?holder=${encodeURIComponent(session.organisation)}`)
      .then((r) => setSpecimens(r.items))
      .catch(() => setSpecimens([]));
    api<{ items: Run[] }>('GET', '/api/v1/runs')
      .then((r) => setRuns([...r.items].sort((a, b) => b.created_at.localeCompare(a.created_at))))
      .catch(() => setRuns([]));
  };
  useEffect(load, []);
  if (file) return <FileDetail id={file} onOpen={setFile} onBack={() => setFile('')} />;
  return (
    <div className="uploads">
      <OpenRunForm specimens={specimens} onOpened={(id) => {
        load();
        setPicked(id);
      }} />
      {picked && <RunDetail key={picked} id={picked} onChanged={load} onOpenFile={setFile} />}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t('runs')}>
        <table data-testid="run-table">
          <caption>
            {t('runs')} ({runs.length})
          </caption>
          <thead>
            <tr>
              <th scope="col">{t('run')}</th>
              <th scope="col">{t('specimenId')}</th>
              <th scope="col">{t('instrument')}</th>
              <th scope="col">{t('flowcell')}</th>
              <th scope="col">{t('layout')}</th>
              <th scope="col">{t('qcVerdict')}</th>
              <th scope="col">{t('qcReasons')}</th>
              <th scope="col">{t('time')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id}>
                <td>
                  <button type="button" className="link" aria-pressed={picked === r.id} onClick={() => setPicked(r.id)}>
                    {r.id}
                  </button>
                </td>
                <td>{r.specimen_id}</td>
                <td>
                  {r.instrument_model}
                  {r.non_standard_instrument && <span className="flag"> ⚠ {t('nonStandardShort')}</span>}
                </td>
                <td>{r.flowcell}</td>
                <td>{t(r.layout === 'paired' ? 'layoutPaired' : 'layoutSingle')}</td>
                <td>{r.status === 'open' ? t('runOpen') : r.status === 'qc_passed' ? `✔ ${t('qcPass')}` : `✖ ${t('qcFail')}`}</td>
                <td>{r.verdict?.reasons.join('; ')}</td>
                <td>{r.created_at.slice(0, 10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

// ---- data files --------------------------------------------------------------------------------

export function FileDetail({ id, onOpen, onBack }: { id: string; onOpen: (id: string) => void; onBack?: () => void }) {
  const { t, lang } = useI18n();
  const [f, setF] = useState<DataFile | null>(null);
  const [children, setChildren] = useState<DataFile[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    setF(null);
    setError('');
    let current = true; // an answer for a file opened earlier is dropped
    api<DataFile>('GET', `/api/v1/files/${id}`)
      .then((x) => {
        if (!current) return;
        setF(x);
        return api<{ items: DataFile[] }>('GET', `/api/v1/participants/${x.participant_id}/files`)
          .then((r) => current && setChildren(r.items.filter((c) => c.derived_from.includes(x.id))))
          .catch(() => current && setChildren([]));
      })
      .catch((e: ApiError) => current && setError(describeError(lang, e)));
    return () => {
      current = false;
    };
  }, [id]);
  return (
    <section className="card" aria-labelledby="h-file">
      {onBack && (
        <button type="button" onClick={onBack}>
          ← {t('back')}
        </button>
      )}
      <h3 id="h-file" data-testid="file-title">
        {t('dataFile')} {id}
      </h3>
      {error && <p role="alert">{error}</p>}
      {f && (
        <>
          <table data-testid="file-meta">
            <caption>{t('fileMetadata')}</caption>
            <tbody>
              {(
                [
                  ['kind', f.kind],
                  ['fileName', f.file_name],
                  ['specimenId', f.specimen_id],
                  ['participant', f.participant_id],
                  ['run', f.run_id ?? '—'],
                  ['read', f.read ?? '—'],
                  ['uploadedSize', f.uploaded_size.toLocaleString()],
                  ['uploadedSha256', f.uploaded_sha256],
                  ['uploadedMd5', f.uploaded_md5 ?? '—'],
                  ['storedSha256', f.sha256],
                  ['storedSize', f.size.toLocaleString()],
                  ['index', f.index_kind ?? '—'],
                  ['changedBy', f.created_by],
                  ['time', f.created_at],
                ] as const
              ).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{t(k)}</th>
                  <td className={k.endsWith('Sha256') || k.endsWith('Md5') ? 'mono' : ''}>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>{t('derivedFrom')}</h4>
          {f.derived_from.length === 0 ? (
            <p className="muted">{t('noneOriginal')}</p>
          ) : (
            <ul data-testid="derived-from">
              {f.derived_from.map((d) => (
                <li key={d}>
                  <button type="button" className="link" onClick={() => onOpen(d)}>
                    {d}
                  </button>
                </li>
              ))}
            </ul>
          )}
          {children.length > 0 && (
            <>
              <h4>{t('derivedFiles')}</h4>
              <ul data-testid="derived-files">
                {children.map((c) => (
                  <li key={c.id}>
                    <button type="button" className="link" onClick={() => onOpen(c.id)}>
                      {c.id}
                    </button>{' '}
                    {c.kind} {c.file_name}
                  </li>
                ))}
              </ul>
            </>
          )}
          {f.kind === 'fastq' ? (
            <QcSummary files={[f]} />
          ) : (
            <>
              <h4>{t('htsSummary')}</h4>
              <pre className="summary" tabIndex={0} aria-label={t('htsSummary')}>{JSON.stringify(f.report, null, 2)}</pre>
            </>
          )}
        </>
      )}
    </section>
  );
}

// Analysts, stewards and facilities: a participant's files they may see.
export function FilesPage({ session }: { session: SessionInfo }) {
  const { t, lang } = useI18n();
  const [participants, setParticipants] = useState<string[]>([]);
  const [participant, setParticipant] = useState('');
  const [files, setFiles] = useState<DataFile[] | null>(null);
  const [file, setFile] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    const steward = session.roles.includes('data_steward');
    (steward
      ? api<{ items: { id: string }[] }>('GET', '/api/v1/participants?limit=1000').then((r) => r.items.map((p) => p.id))
      : api<{ items: Specimen[] }>('GET', `/api/v1/specimens?holder=${encodeURIComponent(session.organisation)}`).then((r) => r.items.map((s) => s.participant_id))
    )
      .then((ids) => setParticipants([...new Set(ids)]))
      .catch(() => setParticipants([]));
  }, []);
  const search = async (pid: string) => {
    setError('');
    setFile('');
    try {
      setFiles((await api<{ items: DataFile[] }>('GET', `/api/v1/participants/${encodeURIComponent(pid)}/files`)).items);
    } catch (e) {
      setFiles(null);
      setError(describeError(lang, e));
    }
  };
  return (
    <div className="picker">
      <section className="card list" aria-labelledby="h-files">
        <h2 id="h-files">{t('navFiles')}</h2>
        <form onSubmit={(e) => {
          e.preventDefault();
          search(participant);
        }}>
          <label>
            {t('participantId')}
            <input list="file-participants" value={participant} onChange={(e) => setParticipant(e.target.value)} required />
            <datalist id="file-participants">
              {participants.map((p) => (
                <option key={p} value={p} />
              ))}
            </datalist>
          </label>
          <button type="submit">{t('search')}</button>
        </form>
        {error && <p role="alert">{error}</p>}
        {files && (
          <ul className="plist" data-testid="file-list">
            {files.length === 0 && <li>{t('noFiles')}</li>}
            {files.map((f) => (
              <li key={f.id}>
                <button type="button" aria-pressed={file === f.id} onClick={() => setFile(f.id)} data-file={f.id}>
                  <span className="pid">
                    {f.kind.toUpperCase()} {f.file_name}
                  </span>
                  <span className="muted">
                    {f.id} · {f.specimen_id}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <div className="detail">{file && <FileDetail key={file} id={file} onOpen={setFile} />}</div>
    </div>
  );
}
