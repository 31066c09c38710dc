// Storage sites (issue 17), for the data steward: each site's name, kind, tier, jurisdiction,
// reachability and latency, and the copies (objects) and bytes it holds; then every migration
// between sites with its progress bar. Read-only: migrations are started with
// `zengen storage migrate` (the server has no route that starts one), and the page refreshes
// itself while one is running.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { describeError } from '../codes';
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

export function StoragePage() {
  const { t, lang } = useI18n();
  const [sites, setSites] = useState<Site[] | null>(null);
  const [migrations, setMigrations] = useState<Migration[] | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api<{ items: Site[] }>('GET', '/api/v1/storage/sites')
      .then((r) => setSites(r.items))
      .catch((e) => setError(describeError(lang, e)));
    api<{ items: Migration[] }>('GET', '/api/v1/storage/migrations')
      .then((r) => setMigrations(r.items))
      .catch((e) => setError(describeError(lang, e)));
  }, [tick]);
  const running = (migrations ?? []).some((m) => m.state !== 'done');
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
    </>
  );
}
