// Storage sites (issue 17), for the data steward: each site's name, kind, tier, jurisdiction,
// reachability and latency, and the copies (objects) and bytes it holds; then every migration
// between sites with its progress bar, and a form that starts one (POST
// /api/v1/storage/migrations: the server runs it in the background, one at a time) after a
// confirmation, with the reason kept in the audit log. The page refreshes itself while a
// migration is running.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { describeError, errorMessage } from '../codes';
import { useI18n } from '../i18n';

interface Site {
  name: string;
  kind: string;
  tier: string;
  jurisdiction: string;
  organisation: string | null;
  reachable: boolean;
  latency_ms: number;
  detail: string | null;
  objects: number;
  bytes: number;
  bad_copies: number;
}

interface Migration {
  id: string;
  from: string;
  to: string;
  mode: string;
  state: string;
  updated_at: string;
  total: number;
  copied: number;
  retired: number;
  failed: number;
  done: number;
}

// The console's migration job of the serving process (the last one started).
interface Job {
  running: boolean;
  from: string;
  to: string;
  mode: string;
  started_by: string;
  finished_at: string | null;
  error: string | null;
}

const refreshMillis = 3000;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

// A required choice of one storage site by name (the migration's source and destination).
function SiteSelect(props: { label: string; name: string; value: string; onChange: (v: string) => void; sites: Site[] }) {
  return (
    <label>
      {props.label}
      <select aria-required="true" value={props.value} onChange={(e) => props.onChange(e.target.value)} name={props.name}>
        <option value="">―</option>
        {props.sites.map((s) => (
          <option key={s.name} value={s.name}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function StoragePage() {
  const { t, lang } = useI18n();
  const [sites, setSites] = useState<Site[] | null>(null);
  const [migrations, setMigrations] = useState<Migration[] | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const [job, setJob] = useState<Job | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [limit, setLimit] = useState('0');
  const [move, setMove] = useState(false);
  const [grace, setGrace] = useState('168');
  const [reason, setReason] = useState('');
  const [formError, setFormError] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    api<{ items: Site[] }>('GET', '/api/v1/storage/sites')
      .then((r) => setSites(r.items))
      .catch((e) => setError(describeError(lang, e)));
    api<{ items: Migration[]; job: Job | null }>('GET', '/api/v1/storage/migrations')
      .then((r) => {
        setMigrations(r.items);
        setJob(r.job);
      })
      .catch((e) => setError(describeError(lang, e)));
  }, [tick]);
  const running = (migrations ?? []).some((m) => m.state !== 'done') || (job?.running ?? false);

  const ask = () => {
    setNotice('');
    if (!from) return setFormError(errorMessage(lang, 'missing_field', 'from'));
    if (!to) return setFormError(errorMessage(lang, 'missing_field', 'to'));
    if (!reason.replace(/[\s\u3000]/g, '')) return setFormError(errorMessage(lang, 'missing_field', 'reason'));
    setFormError('');
    setConfirming(true);
  };
  const start = () => {
    setConfirming(false);
    api('POST', '/api/v1/storage/migrations', {
      from,
      to,
      limit: Number(limit) || 0,
      move,
      grace_hours: Number(grace),
      reason,
    })
      .then(() => {
        setNotice(t('storageStarted'));
        setReason('');
        setTick((n) => n + 1);
      })
      .catch((e) => setFormError(describeError(lang, e)));
  };
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(() => setTick((n) => n + 1), refreshMillis);
    return () => clearTimeout(timer);
  }, [running, tick]);

  return (
    <>
      <section className="card" aria-labelledby="h-storage-sites">
        <h2 id="h-storage-sites">{t('storageSitesTitle')}</h2>
        {error && <p role="alert">{error}</p>}
        {sites && (
          <div className="table-scroll">
            <table data-testid="storage-sites">
              <caption>{t('storageSitesTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('storageSite')}</th>
                  <th scope="col">{t('storageKind')}</th>
                  <th scope="col">{t('storageTier')}</th>
                  <th scope="col">{t('storageJurisdiction')}</th>
                  <th scope="col">{t('storageReachable')}</th>
                  <th scope="col">{t('storageLatency')}</th>
                  <th scope="col">{t('storageObjects')}</th>
                  <th scope="col">{t('storageBytes')}</th>
                  <th scope="col">{t('storageBadCopies')}</th>
                </tr>
              </thead>
              <tbody>
                {sites.map((s) => (
                  <tr key={s.name} data-site={s.name} data-reachable={String(s.reachable)}>
                    <th scope="row">{s.name}</th>
                    <td>{s.kind === 's3' ? t('storageKindS3') : t('storageKindLocal')}</td>
                    <td>{s.tier === 'cold' ? t('storageTierCold') : t('storageTierHot')}</td>
                    <td>{s.jurisdiction}</td>
                    <td data-testid="site-reachable">
                      {s.reachable ? t('storageUp') : t('storageDown')}
                    </td>
                    <td>{t('storageMillis', { ms: s.latency_ms.toFixed(1) })}</td>
                    <td data-testid="site-objects">{s.objects}</td>
                    <td>{formatBytes(s.bytes)}</td>
                    <td>{s.bad_copies}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="h-storage-migrations">
        <h2 id="h-storage-migrations">{t('storageMigrationsTitle')}</h2>
        <p>{t('storageMigrateHint')}</p>
        {job && (
          <p data-testid="storage-job" data-running={String(job.running)} role="status">
            {job.running
              ? t('storageJobRunning', { user: job.started_by, from: job.from, to: job.to })
              : job.error
                ? t('storageJobFailed', { user: job.started_by, from: job.from, to: job.to, error: job.error })
                : t('storageJobFinished', { user: job.started_by, from: job.from, to: job.to, at: job.finished_at ?? '' })}
          </p>
        )}
        {migrations && migrations.length === 0 && <p>{t('storageNoMigrations')}</p>}
        {migrations && migrations.length > 0 && (
          <ul data-testid="storage-migrations">
            {migrations.map((m) => (
              <li key={m.id} data-migration={m.id} data-state={m.state}>
                <p>
                  {t('storageMigrationLine', {
                    from: m.from,
                    to: m.to,
                    mode: m.mode === 'move' ? t('storageMove') : t('storageCopy'),
                    state: m.state === 'done' ? t('storageStateDone') : t('storageStateRunning'),
                  })}
                </p>
                <progress
                  max={1}
                  value={m.done}
                  aria-label={t('storageProgressLabel', { from: m.from, to: m.to })}
                />{' '}
                <span data-testid="migration-counts">
                  {t('storageMigrationCounts', {
                    done: m.copied + m.retired,
                    total: m.total,
                    failed: m.failed,
                  })}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="h-storage-start">
        <h2 id="h-storage-start">{t('storageStartTitle')}</h2>
        <form
          data-testid="storage-migrate-form"
          onSubmit={(e) => {
            e.preventDefault();
            ask();
          }}
        >
          <SiteSelect label={t('storageFrom')} name="from" value={from} onChange={setFrom} sites={sites ?? []} />
          <SiteSelect label={t('storageTo')} name="to" value={to} onChange={setTo} sites={sites ?? []} />
          <label>
            {t('storageLimit')}
            <input type="number" min={0} step={1} value={limit} onChange={(e) => setLimit(e.target.value)} name="limit" />
          </label>
          <label>
            <input type="checkbox" checked={move} onChange={(e) => setMove(e.target.checked)} name="move" />
            {t('storageMoveOption')}
          </label>
          {move && (
            <label>
              {t('storageGraceHours')}
              <input type="number" min={0} max={87600} step={1} value={grace} onChange={(e) => setGrace(e.target.value)} name="grace_hours" />
            </label>
          )}
          <label>
            {t('actionReason')}
            <textarea
              aria-required="true"
              maxLength={1000}
              rows={2}
              value={reason}
              name="reason"
              aria-invalid={formError ? true : undefined}
              aria-describedby={formError ? 'storage-form-error' : undefined}
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          {formError && (
            <p role="alert" className="error" id="storage-form-error">
              {formError}
            </p>
          )}
          {notice && <p role="status">{notice}</p>}
          {!confirming && (
            <button type="submit" disabled={job?.running ?? false}>
              {t('storageStart')}
            </button>
          )}
        </form>
        {confirming && (
          <div role="alertdialog" aria-labelledby="storage-confirm-text" className="confirm" data-testid="storage-confirm">
            <p id="storage-confirm-text">
              {t('storageConfirmStart', { from, to, mode: move ? t('storageMove') : t('storageCopy') })}
            </p>
            <button type="button" className="danger" onClick={start}>
              {t('storageConfirm')}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        )}
      </section>
    </>
  );
}
