// Datasets and releases (issue 6, R4.6–R4.7). Everyone who may read datasets sees them with the
// counts the server filtered by live consent, and a dataset's visible files. Data stewards also
// create datasets, add participants' files (CRAM/VCF by default, FASTQ only when asked), release
// them with an embargo, follow each release's tier history, set the programme's embargo and
// apply due tier moves.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { useI18n, type TextKey } from '../i18n';
import { label } from '../labels';
import type { DatasetRow } from './Applications';
import { bytes, errorWords, tiers, useSharingText } from './sharingText';

interface FileRow {
  id: string;
  kind: string;
  data_type: string;
  participant_id: string;
  file_name: string;
  size: number;
  sha256: string;
  release_id: string;
  tier: string;
  grant_id: string | null;
}

interface ReleaseDetail {
  id: string;
  dataset_id: string;
  release_date: string;
  embargo_months: number;
  controlled_at: string;
  public_aggregates_at: string | null;
  tier: string;
  history: { seq: number; event: string; from: string | null; to: string; due_at: string; applied_at: string; actor: string }[];
}

const day = (s: string | null | undefined) => (s ? s.slice(0, 10) : '—');
const time = (s: string | null | undefined) => (s ? s.slice(0, 16).replace('T', ' ') : '—');

export function DatasetsPage({ session }: { session: SessionInfo }) {
  const s = useSharingText();
  const { lang, t } = useI18n();
  const [items, setItems] = useState<DatasetRow[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState('');
  const steward = session.roles.includes('data_steward');
  const load = () =>
    api<{ items: DatasetRow[] }>('GET', '/api/v1/datasets')
      .then((r) => setItems(r.items))
      .catch((e) => setError(errorWords(lang, e)));
  useEffect(() => {
    load();
  }, []);
  const current = items?.find((d) => d.id === open) ?? null;
  return (
    <div className="sharing">
      <section className="card" aria-labelledby="h-datasets">
        <h2 id="h-datasets">
          {s('datasets')} ({items?.length ?? 0})
        </h2>
        <p className="muted">{s('datasetsIntro')}</p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="table-wrap">
          <table data-testid="datasets-table" aria-labelledby="h-datasets">
            <thead>
              <tr>
                <th scope="col">{s('dataset')}</th>
                <th scope="col">{s('program')}</th>
                <th scope="col">{s('group')}</th>
                <th scope="col">{s('tier')}</th>
                <th scope="col">{s('visibleParticipants')}</th>
                <th scope="col">{s('visibleFiles')}</th>
              </tr>
            </thead>
            <tbody>
              {(items ?? []).map((d) => (
                <tr key={d.id} data-dataset={d.id}>
                  <td>
                    <button type="button" className="link" aria-pressed={open === d.id} onClick={() => setOpen(d.id)}>
                      {d.name[lang]}
                    </button>
                  </td>
                  <td>{t(`program_${d.program}` as TextKey)}</td>
                  <td className="mono">{d.group_id}</td>
                  <td>{d.releases.map((r) => `${label(tiers, lang, r.tier)} (${day(r.release_date)})`).join(', ') || '—'}</td>
                  <td>{d.visible_participants}</td>
                  <td>{d.visible_files}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {current && <DatasetDetail key={current.id} dataset={current} steward={steward} onChanged={load} />}
      {steward && <CreateDataset onCreated={load} />}
      {steward && <SettingsForm />}
    </div>
  );
}

function DatasetDetail({ dataset, steward, onChanged }: { dataset: DatasetRow; steward: boolean; onChanged: () => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [files, setFiles] = useState<FileRow[] | null>(null);
  const [releases, setReleases] = useState<ReleaseDetail[]>([]);
  const load = () => {
    api<{ items: FileRow[] }>('GET', `/api/v1/datasets/${dataset.id}/files`)
      .then((r) => setFiles(r.items))
      .catch(() => setFiles([]));
    Promise.all(dataset.releases.map((r) => api<ReleaseDetail>('GET', `/api/v1/releases/${r.id}`)))
      .then(setReleases)
      .catch(() => setReleases([]));
  };
  useEffect(load, [dataset]);
  const name = dataset.name[lang];
  return (
    <>
      <section className="card" aria-labelledby="h-dataset-files" data-testid="dataset-files">
        <h2 id="h-dataset-files">{s('filesOf', { name })}</h2>
        {dataset.description && <p className="muted">{dataset.description}</p>}
        {files && files.length === 0 && <p className="muted">{s('noFiles')}</p>}
        {files && files.length > 0 && (
          <div className="table-wrap">
            <table aria-labelledby="h-dataset-files">
              <thead>
                <tr>
                  <th scope="col">{s('fileName')}</th>
                  <th scope="col">{s('dataType')}</th>
                  <th scope="col">{s('participant')}</th>
                  <th scope="col">{s('size')}</th>
                  <th scope="col">{s('tier')}</th>
                  <th scope="col">{s('grant')}</th>
                  <th scope="col">SHA-256</th>
                </tr>
              </thead>
              <tbody>
                {files.map((f) => (
                  <tr key={f.id} data-file={f.id}>
                    <td>
                      {f.file_name}
                      <div className="muted mono">{f.id}</div>
                    </td>
                    <td>{f.data_type.toUpperCase()}</td>
                    <td className="mono">{f.participant_id}</td>
                    <td>{bytes(f.size)}</td>
                    <td>{label(tiers, lang, f.tier)}</td>
                    <td className="mono">{f.grant_id ?? '—'}</td>
                    <td className="mono">{f.sha256.slice(0, 16)}…</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="h-releases">
        <h2 id="h-releases">{s('releases')}</h2>
        {releases.map((r) => (
          <div key={r.id} data-release={r.id}>
            <h3>
              <span className="mono">{r.id}</span> · {label(tiers, lang, r.tier)}
            </h3>
            <dl className="facts">
              <dt>{s('releaseDate')}</dt>
              <dd>{day(r.release_date)}</dd>
              <dt>{s('embargoMonths')}</dt>
              <dd>{r.embargo_months}</dd>
              <dt>{s('controlledAt')}</dt>
              <dd>{day(r.controlled_at)}</dd>
              <dt>{s('publicAggregatesAt')}</dt>
              <dd>{day(r.public_aggregates_at)}</dd>
            </dl>
            <table aria-label={`${s('tierHistory')} ${r.id}`} data-testid="tier-history">
              <caption>{s('tierHistory')}</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">{s('event')}</th>
                  <th scope="col">{s('from')}</th>
                  <th scope="col">{s('to')}</th>
                  <th scope="col">{s('dueAt')}</th>
                  <th scope="col">{s('appliedAt')}</th>
                  <th scope="col">{s('actor')}</th>
                </tr>
              </thead>
              <tbody>
                {r.history.map((h) => (
                  <tr key={h.seq}>
                    <td>{h.seq}</td>
                    <td className="mono">{h.event}</td>
                    <td>{h.from ? label(tiers, lang, h.from) : '—'}</td>
                    <td>{label(tiers, lang, h.to)}</td>
                    <td>{time(h.due_at)}</td>
                    <td>{time(h.applied_at)}</td>
                    <td>{h.actor}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </section>
      {steward && (
        <AddFilesForm
          dataset={dataset}
          onDone={() => {
            load();
            onChanged();
          }}
        />
      )}
      {steward && <ReleaseForm dataset={dataset} onDone={onChanged} />}
    </>
  );
}

function AddFilesForm({ dataset, onDone }: { dataset: DatasetRow; onDone: () => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [participants, setParticipants] = useState('');
  const [fileIds, setFileIds] = useState('');
  const [fastq, setFastq] = useState(false);
  const [result, setResult] = useState('');
  const [error, setError] = useState('');
  const lines = (v: string) => v.split(/\s+/).map((x) => x.trim()).filter(Boolean);
  return (
    <form
      className="card"
      aria-labelledby="h-add-files"
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        setResult('');
        try {
          const r = await api<{ added: string[]; skipped: string[] }>('POST', `/api/v1/datasets/${dataset.id}/files`, {
            participant_ids: lines(participants),
            file_ids: lines(fileIds),
            include_fastq: fastq,
          });
          setResult(s('added', { added: r.added.length, skipped: r.skipped.length }));
          onDone();
        } catch (err) {
          setError(errorWords(lang, err));
        }
      }}
    >
      <h2 id="h-add-files">{s('addFiles')}</h2>
      <label>
        {s('participantIds')}
        <textarea value={participants} onChange={(e) => setParticipants(e.target.value)} rows={3} cols={40} />
      </label>
      <label>
        {s('fileIds')}
        <textarea value={fileIds} onChange={(e) => setFileIds(e.target.value)} rows={2} cols={40} />
      </label>
      <label className="radio">
        <input type="checkbox" checked={fastq} onChange={(e) => setFastq(e.target.checked)} />
        {s('includeFastq')}
      </label>
      <button type="submit">{s('addFiles')}</button>
      {result && <p role="status">{result}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

function ReleaseForm({ dataset, onDone }: { dataset: DatasetRow; onDone: () => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [date, setDate] = useState(new Date().toISOString().slice(0, 10));
  const [months, setMonths] = useState('');
  const [aggregates, setAggregates] = useState('');
  const [error, setError] = useState('');
  return (
    <form
      className="card"
      aria-labelledby="h-release"
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        try {
          await api('POST', `/api/v1/datasets/${dataset.id}/releases`, {
            release_date: date,
            embargo_months: months === '' ? undefined : Number(months),
            public_aggregates_date: aggregates || undefined,
          });
          onDone();
        } catch (err) {
          setError(errorWords(lang, err));
        }
      }}
    >
      <h2 id="h-release">{s('createRelease')}</h2>
      <div className="filters">
        <label>
          {s('releaseDate')}
          <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
        </label>
        <label>
          {s('embargoMonths')}
          <input type="number" min={0} max={120} value={months} onChange={(e) => setMonths(e.target.value)} placeholder={s('embargoDefault')} />
        </label>
        <label>
          {s('publicAggregatesAt')}
          <input type="date" value={aggregates} onChange={(e) => setAggregates(e.target.value)} />
        </label>
      </div>
      <button type="submit">{s('createRelease')}</button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

function CreateDataset({ onCreated }: { onCreated: () => void }) {
  const s = useSharingText();
  const { lang, t } = useI18n();
  const [groups, setGroups] = useState<{ id: string; name: string }[]>([]);
  const [nameJa, setNameJa] = useState('');
  const [nameEn, setNameEn] = useState('');
  const [program, setProgram] = useState('cancer');
  const [group, setGroup] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: { id: string; name: string }[] }>('GET', '/api/v1/admin/groups')
      .then((r) => {
        setGroups(r.items);
        if (r.items.length) setGroup(r.items[0].id);
      })
      .catch(() => setGroups([]));
  }, []);
  return (
    <form
      className="card"
      aria-labelledby="h-create-dataset"
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        try {
          await api('POST', '/api/v1/datasets', { name_ja: nameJa, name_en: nameEn, program, group_id: group, description: description || undefined });
          setNameJa('');
          setNameEn('');
          setDescription('');
          onCreated();
        } catch (err) {
          setError(errorWords(lang, err));
        }
      }}
    >
      <h2 id="h-create-dataset">{s('createDataset')}</h2>
      <div className="filters">
        <label>
          {s('nameJa')}
          <input value={nameJa} onChange={(e) => setNameJa(e.target.value)} required />
        </label>
        <label>
          {s('nameEn')}
          <input value={nameEn} onChange={(e) => setNameEn(e.target.value)} required />
        </label>
      </div>
      <div className="filters">
        <label>
          {s('program')}
          <select value={program} onChange={(e) => setProgram(e.target.value)}>
            {['cancer', 'rare_disease'].map((p) => (
              <option key={p} value={p}>
                {t(`program_${p}` as TextKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {s('group')}
          <select value={group} onChange={(e) => setGroup(e.target.value)} required>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name} ({g.id})
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        {s('description')}
        <input value={description} onChange={(e) => setDescription(e.target.value)} size={60} />
      </label>
      <button type="submit" className="primary">
        {s('createDataset')}
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

function SettingsForm() {
  const s = useSharingText();
  const { lang, t } = useI18n();
  const [items, setItems] = useState<{ program: string; embargo_months: number }[]>([]);
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: { program: string; embargo_months: number }[] }>('GET', '/api/v1/sharing-settings')
      .then((r) => setItems(r.items))
      .catch((e) => setError(errorWords(lang, e)));
  }, []);
  return (
    <section className="card" aria-labelledby="h-sharing-settings">
      <h2 id="h-sharing-settings">{s('settings')}</h2>
      {items.map((it, i) => (
        <form
          key={it.program}
          className="filters"
          aria-label={`${s('settings')}: ${t(`program_${it.program}` as TextKey)}`}
          onSubmit={async (e) => {
            e.preventDefault();
            setError('');
            setStatus('');
            try {
              await api('PUT', '/api/v1/sharing-settings', { program: it.program, embargo_months: it.embargo_months });
              setStatus(s('saved'));
            } catch (err) {
              setError(errorWords(lang, err));
            }
          }}
        >
          <label>
            {t(`program_${it.program}` as TextKey)}: {s('embargoMonths')}
            <input
              type="number"
              min={1}
              max={120}
              value={it.embargo_months}
              onChange={(e) => setItems(items.map((x, j) => (j === i ? { ...x, embargo_months: Number(e.target.value) } : x)))}
              required
            />
          </label>
          <button type="submit">{s('save')}</button>
        </form>
      ))}
      <button
        type="button"
        onClick={async () => {
          setError('');
          try {
            const r = await api<Record<string, number>>('POST', '/api/v1/sharing-tick', {});
            setStatus(s('tickResult', r));
          } catch (err) {
            setError(errorWords(lang, err));
          }
        }}
      >
        {s('tick')}
      </button>
      {status && <p role="status">{status}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
