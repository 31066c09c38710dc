// The staff console: login, then the pages the user's roles may use.
import { useEffect, useState } from 'react';
import { api, ApiError, setCsrfToken, type SessionInfo } from '../api';
import { diseaseLabel, useI18n, type TextKey } from '../i18n';
import { Login } from './Login';
import { ClinicalForm, type Dictionary } from './Clinical';
import { ConsentPage, SpecimensPage } from './Records';
import { FilesPage, UploadsPage } from './Sequencing';
import { FindingsPage } from './Findings';
import { AdminPage, AuditPage, ImportForm } from './Admin';
import { ApplicationsPage } from './Applications';
import { DatasetsPage } from './Datasets';
import { GrantsPage, TokensPage } from './Grants';

type Page =
  | 'participants' | 'consent' | 'specimens' | 'uploads' | 'files' | 'findings' | 'audit' | 'admin'
  | 'applications' | 'datasets' | 'grants' | 'tokens';
const pagesFor: Record<string, Page[]> = {
  clinician: ['participants', 'consent', 'specimens', 'findings'],
  sequencing_operator: ['uploads', 'specimens', 'files'],
  analyst: ['findings', 'files', 'specimens'],
  security_officer: ['audit', 'admin'],
  data_steward: ['admin', 'participants', 'findings', 'files', 'datasets', 'applications', 'grants'],
  committee_member: ['applications', 'datasets', 'grants'],
  researcher: ['datasets', 'applications', 'grants', 'tokens'],
};
const navKey: Record<Page, TextKey> = {
  participants: 'navParticipants',
  consent: 'navConsent',
  specimens: 'navSpecimens',
  uploads: 'navUploads',
  files: 'navFiles',
  findings: 'navFindings',
  audit: 'navAudit',
  admin: 'navAdmin',
  applications: 'navApplications',
  datasets: 'navDatasets',
  grants: 'navGrants',
  tokens: 'navTokens',
};

export interface ParticipantRow {
  id: string;
  local_id?: string;
  program: string;
  disease_category: string;
  index_date: string;
  hospital: string;
}

export function Console() {
  const { t } = useI18n();
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [checked, setChecked] = useState(false);
  const [page, setPage] = useState<Page | null>(null);
  useEffect(() => {
    api<SessionInfo>('GET', '/api/v1/auth/session')
      .then((s) => {
        if (s.csrf_token) setCsrfToken(s.csrf_token);
        if (s.mfa_passed) setSession(s);
      })
      .catch(() => undefined)
      .finally(() => setChecked(true));
  }, []);
  if (!checked) return <p aria-busy="true">{t('loading')}</p>;
  if (!session) return <Login onDone={(s) => setSession(s)} />;
  const pages = [...new Set(session.roles.flatMap((r) => pagesFor[r] ?? []))];
  const current = page ?? pages[0] ?? null;
  const logout = async () => {
    await api('POST', '/api/v1/auth/logout').catch(() => undefined);
    setCsrfToken('');
    setSession(null);
  };
  return (
    <div className="console">
      <div className="console-bar">
        <nav aria-label={t('console')} className="console-nav">
          {pages.map((p) => (
            <button key={p} type="button" aria-current={p === current ? 'page' : undefined} onClick={() => setPage(p)}>
              {t(navKey[p])}
            </button>
          ))}
        </nav>
        <span className="who" data-testid="signed-in">
          {t('signedInAs')}: {session.user} ({session.organisation})
        </span>
        <button type="button" onClick={logout}>
          {t('logout')}
        </button>
      </div>
      {current === null && <p>{t('noAccess')}</p>}
      {current === 'participants' && <ParticipantsPage canImport={session.roles.includes('clinician')} />}
      {current === 'consent' && <ParticipantPicker render={(p) => <ConsentPage participant={p} />} />}
      {current === 'specimens' && <SpecimensPage session={session} />}
      {current === 'uploads' && <UploadsPage session={session} />}
      {current === 'files' && <FilesPage session={session} />}
      {current === 'findings' && <FindingsPage session={session} />}
      {current === 'audit' && <AuditPage />}
      {current === 'admin' && <AdminPage session={session} />}
      {current === 'applications' && <ApplicationsPage session={session} />}
      {current === 'datasets' && <DatasetsPage session={session} />}
      {current === 'grants' && <GrantsPage session={session} />}
      {current === 'tokens' && <TokensPage />}
    </div>
  );
}

export function ParticipantPicker({ render }: { render: (p: ParticipantRow) => React.ReactNode }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<ParticipantRow[]>([]);
  const [selected, setSelected] = useState<ParticipantRow | null>(null);
  const [query, setQuery] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: ParticipantRow[] }>('GET', '/api/v1/participants?limit=1000')
      .then((r) => setItems(r.items))
      .catch((e: ApiError) => setError(e.message));
  }, []);
  const shown = items.filter((p) => !query || `${p.id} ${p.local_id ?? ''} ${p.disease_category}`.toLowerCase().includes(query.toLowerCase()));
  return (
    <div className="picker">
      <section className="card list" aria-labelledby="h-participants">
        <h2 id="h-participants">
          {t('participants')} ({items.length})
        </h2>
        <label>
          {t('filter')}
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        {error && <p role="alert">{error}</p>}
        <ul className="plist" data-testid="participant-list">
          {shown.slice(0, 200).map((p) => (
            <li key={p.id}>
              <button type="button" aria-pressed={selected?.id === p.id} onClick={() => setSelected(p)} data-participant={p.id}>
                <span className="pid">{p.local_id ?? p.id}</span>
                <span className="muted">
                  {t(`program_${p.program}` as TextKey)} · {diseaseLabel(lang, p.disease_category)} · {p.index_date}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="detail" aria-label={t('participant')}>
        {selected ? (
          <>
            <h2 data-testid="selected-participant">
              {selected.local_id ?? selected.id} <span className="muted">{selected.id}</span>
            </h2>
            {render(selected)}
          </>
        ) : null}
      </section>
    </div>
  );
}

function ParticipantsPage({ canImport }: { canImport: boolean }) {
  const [dict, setDict] = useState<Dictionary | null>(null);
  useEffect(() => {
    api<Dictionary>('GET', '/api/v1/dictionary').then(setDict);
  }, []);
  if (!dict) return null;
  return (
    <>
      <ParticipantPicker render={(p) => <ClinicalForm key={p.id} participant={p} dict={dict} />} />
      {canImport && <ImportForm categories={dict.categories} />}
    </>
  );
}
