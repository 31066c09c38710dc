// The staff console: login, then the pages the user's roles may use. Every page and record has
// its own URL (router.ts): /console/<page>[/<record>[/<part>]], so deep links, reload and Back
// work, and each sets the page title.
import { useEffect, useState } from 'react';
import { api, setCsrfToken, type SessionInfo } from '../api';
import { diseaseLabel, useI18n, type TextKey } from '../i18n';
import { consoleParts, consolePath, linkClick, navigate, usePath, useTitle } from '../router';
import { describeError } from '../codes';
import { Login } from './Login';
import { ClinicalForm, type Dictionary } from './Clinical';
import { ConsentPage, IncomingPage, ParticipantSpecimens, SpecimensPage } from './Records';
import { RegisterParticipant } from './Register';
import { FilesPage, UploadsPage } from './Sequencing';
import { FindingsPage } from './Findings';
import { AdminPage, AuditPage, ImportForm } from './Admin';
import { ApplicationsPage } from './Applications';
import { DatasetsPage } from './Datasets';
import { GrantsPage, TokensPage } from './Grants';
import { CohortPage } from './Cohort';
import { WorklistPage } from './Worklist';
import { RunsPage } from './Runs';
// The researcher's data page (issue 14).
import { ResearchPage } from './Research';
// The data steward's storage sites and migrations (issue 17).
import { StoragePage } from './Storage';
// Administration pages: research groups, machine tokens, ICF versions (issue 14).
import { GroupsPage } from './Groups';
import { MachineTokensPage } from './MachineTokens';
import { IcfVersionsPage } from './IcfVersions';

type Page =
  | 'participants' | 'worklist' | 'consent' | 'specimens' | 'incoming' | 'uploads' | 'files' | 'findings' | 'audit' | 'admin'
  | 'applications' | 'datasets' | 'grants' | 'tokens' | 'cohort' | 'runs'
  | 'research' | 'storage'
  | 'groups' | 'machine-tokens' | 'icf';
const pagesFor: Record<string, Page[]> = {
  clinician: ['participants', 'worklist', 'consent', 'specimens', 'findings'],
  sequencing_operator: ['uploads', 'incoming', 'specimens', 'files'],
  analyst: ['findings', 'files', 'specimens', 'cohort', 'runs'],
  security_officer: ['audit', 'admin'],
  data_steward: ['admin', 'participants', 'worklist', 'findings', 'files', 'datasets', 'applications', 'grants', 'cohort', 'runs'],
  committee_member: ['applications', 'datasets', 'grants'],
  researcher: ['datasets', 'applications', 'grants', 'tokens', 'cohort', 'research'],
};
// Administration pages (issue 14), after each role's own.
pagesFor.data_steward.push('groups', 'machine-tokens', 'icf');
pagesFor.security_officer.push('groups', 'machine-tokens');
const navKey: Record<Page, TextKey> = {
  participants: 'navParticipants',
  worklist: 'navWorklist',
  consent: 'navConsent',
  specimens: 'navSpecimens',
  incoming: 'navIncoming',
  uploads: 'navUploads',
  files: 'navFiles',
  findings: 'navFindings',
  audit: 'navAudit',
  admin: 'navAdmin',
  applications: 'navApplications',
  datasets: 'navDatasets',
  grants: 'navGrants',
  tokens: 'navTokens',
  cohort: 'navCohort',
  runs: 'navRuns',
  research: 'navResearch',
  storage: 'navStorage',
  groups: 'navGroups',
  'machine-tokens': 'navMachineTokens',
  icf: 'navIcf',
};
pagesFor.data_steward.push('storage');

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
  const path = usePath();
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    api<SessionInfo>('GET', '/api/v1/auth/session')
      .then((s) => {
        if (s.csrf_token) setCsrfToken(s.csrf_token);
        if (s.mfa_passed) setSession(s);
      })
      .catch(() => undefined)
      .finally(() => setChecked(true));
  }, []);
  const parts = consoleParts(path);
  const pages = session ? [...new Set(session.roles.flatMap((r) => pagesFor[r] ?? []))] : [];
  const asked = parts[0] as Page | undefined;
  const current: Page | null = asked && pages.includes(asked) ? asked : pages[0] ?? null;
  // The bare /console (or a page this user may not use) becomes the first page's URL.
  useEffect(() => {
    if (session && current && asked !== current) navigate(consolePath(current), { replace: true });
  }, [session, current, asked]);
  // Records (a participant, a specimen) set their own titles; the console titles the pages.
  const pageTitle = !checked ? t('loading') : !session ? t('login') : current ? t(navKey[current]) : t('noAccess');
  useTitle(parts.length <= 1 ? pageTitle : '', parts.length <= 1 ? t('appName') : '');
  if (!checked) return <p aria-busy="true">{t('loading')}</p>;
  if (!session) return <Login onDone={(s) => setSession(s)} />;
  const logout = async () => {
    await api('POST', '/api/v1/auth/logout').catch(() => undefined);
    setCsrfToken('');
    setSession(null);
  };
  const rest = current === asked ? parts.slice(1) : [];
  return (
    <div className="console">
      <div className="console-bar">
        <nav aria-label={t('console')} className="console-nav">
          {pages.map((p) => (
            <button key={p} type="button" aria-current={p === current ? 'page' : undefined} onClick={() => navigate(consolePath(p))}>
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
      {current === 'participants' && <ParticipantsPage session={session} rest={rest} />}
      {current === 'consent' && (
        <ParticipantPicker page="consent" selectedId={rest[0]} render={(p) => (
          <>
            <ParticipantNav id={p.id} current="consent" canWrite={session.roles.includes('clinician')} />
            <ConsentPage participant={p} />
          </>
        )} />
      )}
      {current === 'worklist' && <WorklistPage />}
      {current === 'specimens' && <SpecimensPage session={session} selectedId={rest[0]} />}
      {current === 'incoming' && <IncomingPage session={session} />}
      {current === 'uploads' && <UploadsPage session={session} />}
      {current === 'files' && <FilesPage session={session} />}
      {current === 'findings' && <FindingsPage session={session} selectedId={rest[0]} />}
      {current === 'audit' && <AuditPage />}
      {current === 'admin' && <AdminPage session={session} />}
      {current === 'applications' && <ApplicationsPage session={session} selectedId={rest[0]} />}
      {current === 'datasets' && <DatasetsPage session={session} />}
      {current === 'grants' && <GrantsPage session={session} />}
      {current === 'tokens' && <TokensPage />}
      {current === 'cohort' && <CohortPage />}
      {current === 'runs' && <RunsPage session={session} />}
      {current === 'research' && <ResearchPage selectedId={rest[0]} />}
      {current === 'storage' && <StoragePage />}
      {current === 'groups' && <GroupsPage session={session} />}
      {current === 'machine-tokens' && <MachineTokensPage session={session} />}
      {current === 'icf' && <IcfVersionsPage rest={rest} session={session} />}
    </div>
  );
}

const pageSize = 50;

// The participants of the user's hospital (all, for a data steward), filterable and paged; the
// chosen one is part of the URL (/console/<page>/<id>).
export function ParticipantPicker({ page, selectedId, render, extra }: {
  page: string;
  selectedId?: string;
  render: (p: ParticipantRow) => React.ReactNode;
  extra?: React.ReactNode;
}) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<ParticipantRow[] | null>(null);
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: ParticipantRow[] }>('GET', '/api/v1/participants?limit=1000')
      .then((r) => setItems(r.items))
      .catch((e) => setError(describeError(lang, e)));
  }, [selectedId]);
  const all = items ?? [];
  const selected = all.find((p) => p.id === selectedId) ?? null;
  useTitle(selected ? `${selected.local_id ?? selected.id}` : '', selectedId ? `${t(page === 'consent' ? 'navConsent' : 'navParticipants')} | ${t('appName')}` : '');
  const shown = all.filter((p) => !query || `${p.id} ${p.local_id ?? ''} ${p.disease_category} ${diseaseLabel(lang, p.disease_category)}`.toLowerCase().includes(query.toLowerCase()));
  const start = Math.min(offset, Math.max(0, shown.length - 1 - ((shown.length - 1) % pageSize)));
  return (
    <div className="picker">
      <section className="card list" aria-labelledby="h-participants">
        <h2 id="h-participants">
          {t('participants')} ({all.length})
        </h2>
        {extra}
        <label>
          {t('filter')}
          <input type="search" value={query} onChange={(e) => {
            setQuery(e.target.value);
            setOffset(0);
          }} />
        </label>
        {error && <p role="alert">{error}</p>}
        <ul className="plist" data-testid="participant-list">
          {shown.slice(start, start + pageSize).map((p) => (
            <li key={p.id}>
              <a href={consolePath(page, p.id)} className="pbutton" aria-current={selected?.id === p.id ? 'page' : undefined} onClick={linkClick(consolePath(page, p.id))} data-participant={p.id}>
                <span className="pid">{p.local_id ?? p.id}</span>
                <span className="muted">
                  {t(`program_${p.program}` as TextKey)} · {diseaseLabel(lang, p.disease_category)} · {p.index_date}
                </span>
              </a>
            </li>
          ))}
        </ul>
        {shown.length > pageSize && (
          <div className="pager" data-testid="participant-pager">
            <button type="button" disabled={start === 0} onClick={() => setOffset(Math.max(0, start - pageSize))}>
              {t('previousPage')}
            </button>
            <span>{t('pageOf', { from: start + 1, to: Math.min(shown.length, start + pageSize), total: shown.length })}</span>
            <button type="button" disabled={start + pageSize >= shown.length} onClick={() => setOffset(start + pageSize)}>
              {t('nextPage')}
            </button>
          </div>
        )}
      </section>
      <section className="detail" aria-label={t('participant')}>
        {selected ? (
          <>
            <h2 data-testid="selected-participant">
              {selected.local_id ?? selected.id} <span className="muted">{selected.id}</span>
            </h2>
            {render(selected)}
          </>
        ) : selectedId && items ? (
          <p role="alert">{t('participantNotListed')}</p>
        ) : null}
      </section>
    </div>
  );
}

// /console/participants                      the list (and, for clinicians, registration)
// /console/participants/new                  registering a participant
// /console/participants/<id>[/<category>]    clinical entry
// /console/participants/<id>/specimens       the participant's specimens and their registration
function ParticipantsPage({ session, rest }: { session: SessionInfo; rest: string[] }) {
  const { t } = useI18n();
  const [dict, setDict] = useState<Dictionary | null>(null);
  const canWrite = session.roles.includes('clinician');
  useEffect(() => {
    api<Dictionary>('GET', '/api/v1/dictionary').then(setDict);
  }, []);
  if (!dict) return null;
  if (rest[0] === 'new' && canWrite) return <RegisterParticipant />;
  const sub = rest[1] ?? dict.categories[0].code;
  return (
    <>
      <ParticipantPicker
        page="participants"
        selectedId={rest[0]}
        extra={canWrite ? (
          <a className="button primary" href={consolePath('participants', 'new')} onClick={linkClick(consolePath('participants', 'new'))}>
            {t('registerParticipant')}
          </a>
        ) : undefined}
        render={(p) => (
          <>
            <ParticipantNav id={p.id} current={sub === 'specimens' ? 'specimens' : 'clinical'} canWrite={canWrite} category={sub === 'specimens' ? undefined : sub} />
            {sub === 'specimens' ? (
              <ParticipantSpecimens participant={p} canWrite={canWrite} />
            ) : (
              <ClinicalForm key={p.id} participant={p} dict={dict} category={sub} canWrite={canWrite} />
            )}
          </>
        )}
      />
      {canWrite && <ImportForm categories={dict.categories} />}
    </>
  );
}

// The sections of one participant: clinical data, specimens, consent.
function ParticipantNav({ id, current, canWrite, category }: { id: string; current: 'clinical' | 'specimens' | 'consent'; canWrite: boolean; category?: string }) {
  const { t } = useI18n();
  const link = (to: string, label: string, on: boolean) => (
    <a href={to} aria-current={on ? 'page' : undefined} onClick={linkClick(to)}>
      {label}
    </a>
  );
  return (
    <nav className="subnav" aria-label={t('participantSections')}>
      {link(consolePath('participants', id, category ?? ''), t('clinicalData'), current === 'clinical')}
      {link(consolePath('participants', id, 'specimens'), t('specimens'), current === 'specimens')}
      {canWrite && link(consolePath('consent', id), t('navConsent'), current === 'consent')}
    </nav>
  );
}
