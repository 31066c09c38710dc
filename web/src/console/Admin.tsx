// The security officer's audit view (a timeline with filters) and the administration of users
// and organisations (one-time MFA enrolment codes, role grants awaiting a second person's
// approval), with the CSV import of clinical data and its progress bar.
import { useEffect, useState } from 'react';
import { api, ApiError, upload, type SessionInfo } from '../api';
import { useI18n } from '../i18n';

interface AuditRecord {
  seq: number;
  time: string;
  actor: string;
  source: string;
  action: string;
  resource: string;
  decision: string;
  reason: string;
}

export function AuditPage() {
  const { t } = useI18n();
  const [filters, setFilters] = useState({ actor: '', action: '', resource: '' });
  const [items, setItems] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState('');
  const search = async (after?: number) => {
    const q = new URLSearchParams({ limit: '100' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (after !== undefined) q.set('after_seq', String(after));
    try {
      const r = await api<{ items: AuditRecord[]; next_after_seq: number | null }>('GET', `/api/v1/audit?${q}`);
      setItems(after === undefined ? r.items : [...items, ...r.items]);
      setNext(r.next_after_seq);
      setError('');
    } catch (e) {
      setError((e as ApiError).message);
    }
  };
  useEffect(() => {
    search();
  }, []);
  return (
    <div>
      <form className="card filters" onSubmit={(e) => {
        e.preventDefault();
        search();
      }}>
        <h2>{t('auditFilters')}</h2>
        {(['actor', 'action', 'resource'] as const).map((k) => (
          <label key={k}>
            {t(k)}
            <input value={filters[k]} onChange={(e) => setFilters({ ...filters, [k]: e.target.value })} />
          </label>
        ))}
        <button type="submit">{t('search')}</button>
      </form>
      {error && <p role="alert">{error}</p>}
      <table data-testid="audit-table">
        <caption>{t('navAudit')}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('time')}</th>
            <th scope="col">{t('actor')}</th>
            <th scope="col">{t('source')}</th>
            <th scope="col">{t('action')}</th>
            <th scope="col">{t('resource')}</th>
            <th scope="col">{t('decision')}</th>
            <th scope="col">{t('reason')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.seq} className={r.decision === 'deny' ? 'deny' : undefined}>
              <td>{r.seq}</td>
              <td>{r.time}</td>
              <td>{r.actor}</td>
              <td>{r.source}</td>
              <td>{r.action}</td>
              <td>{r.resource}</td>
              <td>{r.decision}</td>
              <td>{r.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && (
        <button type="button" onClick={() => search(next)}>
          {t('more')}
        </button>
      )}
    </div>
  );
}

interface User {
  id: string;
  organisation: string;
  display_name: string;
  email: string;
  roles: string[];
  pending_roles?: string[];
  mfa_enrolled: boolean;
  locked: boolean;
  disabled: boolean;
}
interface RoleGrant {
  id: string;
  user: string;
  role: string;
  requested_by: string;
  requested_at: string;
}
// Refusals of the separation-of-duties rules, explained in the reader's language.
const grantErrors = ['grant_not_allowed', 'grant_requires_approval', 'forbidden_role_combination', 'approval_needs_second_person', 'approver_not_allowed'] as const;
interface Org {
  id: string;
  name: string;
  kind: string;
  jurisdiction: string;
}

export function AdminPage({ session }: { session: SessionInfo }) {
  const { t } = useI18n();
  const steward = session.roles.includes('data_steward');
  const approver = steward || session.roles.includes('security_officer');
  const [orgs, setOrgs] = useState<Org[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [grants, setGrants] = useState<RoleGrant[]>([]);
  const [message, setMessage] = useState('');
  const [newUser, setNewUser] = useState({ id: '', organisation: '', display_name: '', email: '', role: 'clinician', password: '' });
  const [newOrg, setNewOrg] = useState({ id: '', name: '', kind: 'hospital', jurisdiction: 'JP' });
  const load = () => {
    api<{ items: Org[] }>('GET', '/api/v1/admin/organisations').then((r) => setOrgs(r.items));
    api<{ items: User[] }>('GET', '/api/v1/admin/users').then((r) => setUsers(r.items));
    api<{ items: RoleGrant[] }>('GET', '/api/v1/admin/role-grants').then((r) => setGrants(r.items)).catch(() => setGrants([]));
  };
  useEffect(load, []);
  const explain = (e: ApiError) => {
    const code = grantErrors.find((c) => c === e.code);
    return code ? t(code) : e.message;
  };
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      setMessage(t('recorded'));
      load();
    } catch (e) {
      setMessage(`${t('error')}: ${explain(e as ApiError)}`);
    }
  };
  const issueCode = async (user: string) => {
    try {
      const r = await api<{ enrolment_code: string }>('POST', `/api/v1/admin/users/${user}/enrolment-code`);
      setMessage(t('enrolmentCodeIssued', { user, code: r.enrolment_code }));
    } catch (e) {
      setMessage(`${t('error')}: ${explain(e as ApiError)}`);
    }
  };
  return (
    <div className="admin">
      <p role="status">{message}</p>
      <table>
        <caption>{t('organisations')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('id')}</th>
            <th scope="col">{t('name')}</th>
            <th scope="col">{t('kind')}</th>
            <th scope="col">{t('jurisdiction')}</th>
          </tr>
        </thead>
        <tbody>
          {orgs.map((o) => (
            <tr key={o.id}>
              <td>{o.id}</td>
              <td>{o.name}</td>
              <td>{o.kind}</td>
              <td>{o.jurisdiction}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {steward && (
        <form className="card" onSubmit={(e) => {
          e.preventDefault();
          act(() => api('POST', '/api/v1/admin/organisations', newOrg));
        }}>
          <h3>{t('addOrg')}</h3>
          {(['id', 'name', 'jurisdiction'] as const).map((k) => (
            <label key={k}>
              {t(k)}
              <input required value={newOrg[k]} onChange={(e) => setNewOrg({ ...newOrg, [k]: e.target.value })} />
            </label>
          ))}
          <label>
            {t('kind')}
            <select value={newOrg.kind} onChange={(e) => setNewOrg({ ...newOrg, kind: e.target.value })}>
              {['hospital', 'sequencing_facility', 'analysis_center', 'data_center', 'academic', 'industry'].map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
          <button type="submit">{t('create')}</button>
        </form>
      )}
      <table>
        <caption>{t('users')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('id')}</th>
            <th scope="col">{t('organisation')}</th>
            <th scope="col">{t('roles')}</th>
            <th scope="col">{t('mfa')}</th>
            <th scope="col">{t('locked')}</th>
            <th scope="col">{t('disabled')}</th>
            {steward && <th scope="col">{t('action')}</th>}
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.id}</td>
              <td>{u.organisation}</td>
              <td>
                {u.roles.join(', ')}
                {u.pending_roles && u.pending_roles.length > 0 && ` (${t('pendingRoles')}: ${u.pending_roles.join(', ')})`}
              </td>
              <td>{u.mfa_enrolled ? t('yes') : t('no')}</td>
              <td>{u.locked ? t('yes') : t('no')}</td>
              <td>{u.disabled ? t('yes') : t('no')}</td>
              {steward && (
                <td className="row-actions">
                  <button type="button" onClick={() => act(() => api('POST', `/api/v1/admin/users/${u.id}/unlock`))}>
                    {t('unlock')}
                  </button>
                  <button type="button" onClick={() => act(() => api('POST', `/api/v1/admin/users/${u.id}/reset-mfa`))}>
                    {t('resetMfa')}
                  </button>
                  <button type="button" onClick={() => act(() => api('POST', `/api/v1/admin/users/${u.id}/disable`))}>
                    {t('disable')}
                  </button>
                  {!u.mfa_enrolled && (
                    <button type="button" onClick={() => issueCode(u.id)}>
                      {t('issueEnrolmentCode')}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {grants.length > 0 && (
        <table data-testid="pending-grants">
          <caption>{t('pendingGrants')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('id')}</th>
              <th scope="col">{t('roles')}</th>
              <th scope="col">{t('requestedBy')}</th>
              {approver && <th scope="col">{t('action')}</th>}
            </tr>
          </thead>
          <tbody>
            {grants.map((g) => (
              <tr key={g.id}>
                <td>{g.user}</td>
                <td>{g.role}</td>
                <td>{g.requested_by}</td>
                {approver && (
                  <td>
                    <button type="button" onClick={() => act(() => api('POST', `/api/v1/admin/role-grants/${g.id}/approve`))}>
                      {t('approve')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {steward && (
        <form className="card" onSubmit={(e) => {
          e.preventDefault();
          const { role, ...rest } = newUser;
          act(() => api('POST', '/api/v1/admin/users', { ...rest, roles: [role] }));
        }}>
          <h3>{t('addUser')}</h3>
          {(['id', 'display_name', 'email'] as const).map((k) => (
            <label key={k}>
              {t(k === 'display_name' ? 'displayName' : k)}
              <input required value={newUser[k]} onChange={(e) => setNewUser({ ...newUser, [k]: e.target.value })} />
            </label>
          ))}
          <label>
            {t('organisation')}
            <select required value={newUser.organisation} onChange={(e) => setNewUser({ ...newUser, organisation: e.target.value })}>
              <option value="">—</option>
              {orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.id}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('roles')}
            <select value={newUser.role} onChange={(e) => setNewUser({ ...newUser, role: e.target.value })}>
              {['clinician', 'sequencing_operator', 'analyst', 'researcher', 'committee_member', 'data_steward', 'security_officer'].map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            {t('password')}
            <input type="password" autoComplete="new-password" required value={newUser.password} onChange={(e) => setNewUser({ ...newUser, password: e.target.value })} />
          </label>
          <button type="submit">{t('create')}</button>
        </form>
      )}
    </div>
  );
}

// CSV import of one clinical category with an upload progress bar (hospital staff).
export function ImportForm({ categories }: { categories: { code: string; label: { ja: string; en: string } }[] }) {
  const { t, pick } = useI18n();
  const [category, setCategory] = useState(categories[0]?.code ?? '');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [message, setMessage] = useState('');
  return (
    <form className="card" onSubmit={async (e) => {
      e.preventDefault();
      if (!file) return;
      setProgress(0);
      setMessage('');
      try {
        await upload(`/api/v1/clinical/import/${category}`, file, 'text/csv', setProgress);
        setMessage(t('importDone'));
      } catch (err) {
        const ae = err as ApiError;
        setMessage(`${t('error')}: ${ae.message} ${ae.problems.slice(0, 5).map((p) => p.message.en).join('; ')}`);
      }
    }}>
      <h3>{t('importTitle')}</h3>
      <label>
        {t('category')}
        <select value={category} onChange={(e) => setCategory(e.target.value)}>
          {categories.map((c) => (
            <option key={c.code} value={c.code}>
              {pick(c.label)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('importFile')}
        <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      <button type="submit" disabled={!file}>
        {t('importStart')}
      </button>
      {progress !== null && <progress max={1} value={progress} aria-label={t('importTitle')} />}
      <p role="status">{message}</p>
    </form>
  );
}
