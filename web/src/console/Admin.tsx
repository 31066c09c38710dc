// The security officer's audit view (a timeline with filters) and the administration of users
// and organisations (one-time MFA enrolment codes, role grants awaiting a second person's
// approval), with the CSV import of clinical data and its progress bar.
import { useEffect, useState } from 'react';
import { api, ApiError, sendBytes, upload, type SessionInfo } from '../api';
import {
  auditEventReasons, auditEvents, codeLabel, consentStates, describeError, organisationKinds, policyReasons, resourceKinds, roles as roleLabels, specimenStates,
} from '../codes';
import { findingEvents, findingStates, messageTypes, parties } from '../labels';
import { tiers } from './sharingText';
import { ConfirmDialog } from './blocks';
import { translate, useI18n, type Bilingual, type TextKey } from '../i18n';

interface AuditRecord {
  seq: number;
  time: string;
  actor: string;
  source: string;
  action: string;
  resource: string;
  decision: string;
  reason: string;
  // A policy decision's record carries its reason as a stable code with arguments.
  details?: { reason_code?: string; reason_args?: Record<string, string>; reason?: unknown; code?: unknown };
}

// The reason an administrator gave for an action on an account (details.reason, issue 14).
function givenReason(r: AuditRecord): string {
  return typeof r.details?.reason === 'string' ? r.details.reason : '';
}

// A refusal of the separation-of-duties rules (identity's records carry its code in
// details.code), in words; null for other records.
function grantRefusal(lang: 'ja' | 'en', r: AuditRecord): string[] | null {
  const code = r.decision === 'deny' ? r.details?.code : undefined;
  const known = grantErrors.find((c) => c === code);
  return known ? [translate(lang, known)] : null;
}

// Reasons of the sign-in records (identity), in words.
const authReasons: Record<string, { ja: string; en: string }> = {
  'TOTP enrolment started with an enrolment code': { ja: '登録コードで TOTP の登録を開始', en: 'TOTP enrolment started with an enrolment code' },
  'password; second factor not enrolled yet': { ja: 'パスワード確認済み・二要素認証は未登録', en: 'password; second factor not enrolled yet' },
  // Administrators' actions on accounts (issue 14).
  disabled: { ja: 'アカウントを無効化', en: 'disabled' },
  enabled: { ja: 'アカウントを再び有効化', en: 'enabled' },
  unlocked: { ja: 'ロックを解除', en: 'unlocked' },
  'second factor reset': { ja: '二要素認証をリセット', en: 'second factor reset' },
  'role granted': { ja: '役割を付与', en: 'role granted' },
  'role grant requested': { ja: '役割の付与を申請（承認待ち）', en: 'role grant requested' },
  'role removed': { ja: '役割を外した', en: 'role removed' },
};

// An audit reason in words: the state codes it names (a custody step, a consent state or
// withdrawal level) become their labels; any other code stays marked as a code.
function auditReason(lang: 'ja' | 'en', reason: string): React.ReactNode[] {
  if (authReasons[reason]) return [authReasons[reason][lang]];
  const event = eventReason(lang, reason);
  if (event) return event;
  const out: React.ReactNode[] = [];
  let last = 0;
  for (const m of reason.matchAll(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g)) {
    out.push(reason.slice(last, m.index));
    const code = m[0];
    const label = specimenStates[code] ?? consentStates[code] ?? consentStates[`withdrawn_${code}`] ?? roleLabels[code];
    out.push(label ? label[lang] : <code key={m.index}>{code}</code>);
    last = (m.index ?? 0) + code.length;
  }
  out.push(reason.slice(last));
  return out;
}

// A template's English text as an anchored pattern whose groups are its {arguments}.
function templatePattern(en: string): { names: string[]; re: RegExp } {
  const names: string[] = [];
  const source = en
    .split(/\{(\w+)\}/)
    .map((part, i) => (i % 2 === 0 ? part.replace(/[.*+?^$()|[\]\\]/g, '\\$&') : (names.push(part), '(\\S+?)')))
    .join('');
  return { names, re: new RegExp(`^${source}$`) };
}

// A code an event's reason names, by its label: a state, an event, a tier, a role, a party.
function codeWord(lang: 'ja' | 'en', value: string, key: number): React.ReactNode {
  if (/^\d+$/.test(value)) return value;
  const label =
    auditEvents[value] ?? specimenStates[value] ?? consentStates[value] ?? findingStates[value] ?? findingEvents[value] ??
    tiers[value] ?? roleLabels[value] ?? messageTypes[value] ?? parties[value];
  return label ? label[lang] : <code key={key}>{value}</code>;
}

const eventPatterns = Object.entries(auditEventReasons)
  .filter(([en]) => en.includes('{'))
  .map(([en, text]) => ({ text, ...templatePattern(en) }));

// A plain event's reason in the reader's language (auditEventReasons), or null.
function eventReason(lang: 'ja' | 'en', reason: string): React.ReactNode[] | null {
  if (auditEventReasons[reason]) return [auditEventReasons[reason][lang]];
  for (const p of eventPatterns) {
    const m = p.re.exec(reason);
    if (!m) continue;
    const args = Object.fromEntries(p.names.map((n, i) => [n, m[i + 1]]));
    return p.text[lang].split(/\{(\w+)\}/).map((part, i) => (i % 2 === 0 ? part : codeWord(lang, args[part] ?? '', i)));
  }
  return null;
}

// A policy decision's reason in the reader's language, from its code (policyReasons): a role
// argument becomes the role's name, a resource kind its name; other arguments (actions, ids)
// are identifiers and stay marked as code. Null when the record has no known code.
// Records written before reasons had codes are recognised by their English text.
const reasonPatterns = Object.entries(policyReasons).map(([code, text]) => ({ code, ...templatePattern(text.en) }));

function reasonOf(r: AuditRecord): { code: string; args: Record<string, string> } | null {
  if (r.details?.reason_code) return { code: r.details.reason_code, args: r.details.reason_args ?? {} };
  if (!r.decision) return null;
  for (const p of reasonPatterns) {
    const m = p.re.exec(r.reason);
    if (m) return { code: p.code, args: Object.fromEntries(p.names.map((n, i) => [n, m[i + 1]])) };
  }
  return null;
}

function policyReason(lang: 'ja' | 'en', r: AuditRecord): React.ReactNode[] | null {
  const reason = reasonOf(r);
  const text = reason ? policyReasons[reason.code]?.[lang] : undefined;
  if (!reason || !text) return null;
  const args = reason.args;
  return text.split(/\{(\w+)\}/).map((part, i) => {
    if (i % 2 === 0) return part;
    const value = args[part] ?? '';
    if (part === 'role' && roleLabels[value]) return roleLabels[value][lang];
    if (part === 'kind' && resourceKinds[value]) return resourceKinds[value][lang];
    return <code key={i}>{value}</code>;
  });
}

// Plain text of a reason for the CSV.
function reasonText(lang: 'ja' | 'en', r: AuditRecord): string {
  const parts = policyReason(lang, r) ?? grantRefusal(lang, r) ?? auditReason(lang, r.reason);
  const given = givenReason(r) ? translate(lang, 'auditGivenReason', { reason: givenReason(r) }) : '';
  return parts.map((p) => (typeof p === 'string' ? p : String((p as React.ReactElement<{ children?: unknown }>).props?.children ?? ''))).join('') + given;
}

function csvCell(s: string | number): string {
  const v = String(s);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

// Dates of the filter (YYYY-MM-DD, UTC) as the RFC 3339 bounds the audit API takes: "from" the
// start of its day, "to" the end of its day.
function auditBound(date: string, end: boolean): string {
  return end ? `${date}T23:59:59.999Z` : `${date}T00:00:00.000Z`;
}

export function AuditPage() {
  const { t, lang } = useI18n();
  const [filters, setFilters] = useState({ actor: '', action: '', resource: '' });
  const [range, setRange] = useState({ from: '', to: '' });
  const [denyOnly, setDenyOnly] = useState(false);
  const [items, setItems] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState('');
  const [exporting, setExporting] = useState<string>('');
  const query = (limit: number) => {
    // Newest first; actor and action match by prefix, deny-only on the server (issue 14).
    const q = new URLSearchParams({ limit: String(limit), order: 'desc' });
    if (filters.actor) q.set('actor_prefix', filters.actor);
    if (filters.action) q.set('action_prefix', filters.action);
    if (filters.resource) q.set('resource', filters.resource);
    if (denyOnly) q.set('decision', 'deny');
    if (range.from) q.set('from', auditBound(range.from, false));
    if (range.to) q.set('to', auditBound(range.to, true));
    return q;
  };
  const search = async (after?: number) => {
    const q = query(100);
    if (after !== undefined) q.set('before_seq', String(after));
    try {
      const r = await api<{ items: AuditRecord[]; next_before_seq: number | null }>('GET', `/api/v1/audit?${q}`);
      setItems(after === undefined ? r.items : [...items, ...r.items]);
      setNext(r.next_before_seq);
      setError('');
    } catch (e) {
      setError(describeError(lang, e));
    }
  };
  useEffect(() => {
    search();
  }, []);
  // Every record the filters select (newest first, at most csvLimit), as CSV with a BOM and
  // headers in the page's language, for Excel.
  const csvLimit = 20000;
  const exportCsv = async () => {
    const all: AuditRecord[] = [];
    let before: number | null = null;
    try {
      do {
        const q = query(500);
        if (before !== null) q.set('before_seq', String(before));
        const r: { items: AuditRecord[]; next_before_seq: number | null } = await api('GET', `/api/v1/audit?${q}`);
        all.push(...r.items);
        before = r.next_before_seq;
        setExporting(t('auditExporting', { n: all.length }));
      } while (before !== null && all.length < csvLimit);
    } catch (e) {
      setExporting('');
      setError(describeError(lang, e));
      return;
    }
    const rows = all.slice(0, csvLimit);
    const head = ['#', t('time'), t('actor'), t('source'), t('action'), t('resource'), t('decision'), t('reason'), t('auditRecordedReason')];
    const lines = rows.map((r) =>
      [r.seq, r.time, r.actor, r.source, r.action, r.resource,
        r.decision === 'deny' ? t('auditDeny') : r.decision === 'allow' ? t('auditAllow') : r.decision,
        reasonText(lang, r), r.reason].map(csvCell).join(','),
    );
    const blob = new Blob(['\ufeff' + [head.map(csvCell).join(','), ...lines].join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `zengen-audit-${new Date().toISOString().slice(0, 10)}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
    setExporting(all.length > csvLimit || before !== null ? t('auditCsvTruncated', { n: csvLimit }) : '');
  };
  const shown = items;
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
        <label>
          {t('auditFrom')}
          <input type="date" value={range.from} onChange={(e) => setRange({ ...range, from: e.target.value })} />
        </label>
        <label>
          {t('auditTo')}
          <input type="date" value={range.to} onChange={(e) => setRange({ ...range, to: e.target.value })} />
        </label>
        <label className="radio">
          <input type="checkbox" checked={denyOnly} onChange={(e) => setDenyOnly(e.target.checked)} />
          {t('auditDenyOnly')}
        </label>
        <button type="submit">{t('search')}</button>
        <button type="button" onClick={exportCsv} data-testid="audit-export">
          {t('auditExportCsv')}
        </button>
      </form>
      {exporting && <p role="status">{exporting}</p>}
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
          {shown.map((r) => (
            <tr key={r.seq} className={r.decision === 'deny' ? 'deny' : undefined} data-decision={r.decision}>
              <td>{r.seq}</td>
              <td>{r.time}</td>
              <td>{r.actor}</td>
              <td>{r.source}</td>
              <td>
                <code>{r.action}</code>
              </td>
              <td>
                <code>{r.resource}</code>
              </td>
              <td>{r.decision === 'deny' ? t('auditDeny') : r.decision === 'allow' ? t('auditAllow') : r.decision}</td>
              {/* A policy decision's reason from its code (the English text stays in the record, shown on hover). */}
              <td title={r.details?.reason_code ? r.reason : undefined} data-reason-code={r.details?.reason_code}>
                {policyReason(lang, r) ?? grantRefusal(lang, r) ?? auditReason(lang, r.reason)}
                {givenReason(r) && <span data-testid="audit-given-reason">{t('auditGivenReason', { reason: givenReason(r) })}</span>}
              </td>
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

type UserVerb = 'unlock' | 'reset-mfa' | 'disable' | 'enable' | 'remove-role';
const confirmLabel: Record<UserVerb, TextKey> = {
  unlock: 'unlock',
  'reset-mfa': 'resetMfa',
  disable: 'disable',
  enable: 'enable',
  'remove-role': 'removeRole',
};

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
  const { t, lang } = useI18n();
  const roleText = (rs: string[]) => rs.map((r) => codeLabel(roleLabels, lang, r)).join('、');
  const steward = session.roles.includes('data_steward');
  const approver = steward || session.roles.includes('security_officer');
  const [orgs, setOrgs] = useState<Org[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [grants, setGrants] = useState<RoleGrant[]>([]);
  const [message, setMessage] = useState('');
  // A destructive action waits for a confirmation naming the user and what follows.
  const [confirming, setConfirming] = useState<{ user: string; verb: UserVerb; role?: string } | null>(null);
  // Every action on an account says why (the server requires it and keeps it in the audit log).
  const ask = (user: string, verb: UserVerb, role?: string) => setConfirming({ user, verb, role });
  const [newUser, setNewUser] = useState({ id: '', organisation: '', display_name: '', email: '', role: 'clinician', password: '' });
  const [newOrg, setNewOrg] = useState({ id: '', name: '', kind: 'hospital', jurisdiction: 'JP' });
  const [extraRole, setExtraRole] = useState({ user: '', role: 'clinician', reason: '' });
  const load = () => {
    api<{ items: Org[] }>('GET', '/api/v1/admin/organisations').then((r) => setOrgs(r.items));
    api<{ items: User[] }>('GET', '/api/v1/admin/users').then((r) => setUsers(r.items));
    api<{ items: RoleGrant[] }>('GET', '/api/v1/admin/role-grants').then((r) => setGrants(r.items)).catch(() => setGrants([]));
  };
  useEffect(load, []);
  const explain = (e: ApiError) => {
    const code = grantErrors.find((c) => c === e.code);
    return code ? t(code) : describeError(lang, e);
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
              <td>{codeLabel(organisationKinds, lang, o.kind)}</td>
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
                <option key={k} value={k}>
                  {codeLabel(organisationKinds, lang, k)}
                </option>
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
            <tr key={u.id} data-user={u.id}>
              <td>{u.id}</td>
              <td>{u.organisation}</td>
              <td>
                {roleText(u.roles)}
                {u.pending_roles && u.pending_roles.length > 0 && ` (${t('pendingRoles')}: ${roleText(u.pending_roles)})`}
                {steward && confirming?.user !== u.id && u.roles.length > 0 && (
                  <span className="row-actions">
                    {u.roles.map((r) => (
                      <button key={r} type="button" className="small" onClick={() => ask(u.id, 'remove-role', r)}>
                        {t('removeRoleNamed', { role: codeLabel(roleLabels, lang, r) })}
                      </button>
                    ))}
                  </span>
                )}
              </td>
              <td>{u.mfa_enrolled ? t('yes') : t('no')}</td>
              <td>{u.locked ? t('yes') : t('no')}</td>
              <td>{u.disabled ? t('yes') : t('no')}</td>
              {steward && (
                <td className="row-actions">
                  {confirming?.user === u.id ? (
                    <ConfirmDialog key={`${confirming.verb}/${confirming.role ?? ''}`} labelId={`confirm-${u.id}`} testId="admin-confirm" withReason
                      text={t(`confirm_${confirming.verb}` as TextKey, { user: u.id, role: codeLabel(roleLabels, lang, confirming.role ?? '') })}
                      confirmLabel={t(confirmLabel[confirming.verb])} onCancel={() => setConfirming(null)} onConfirm={(reason) => {
                        const verb = confirming.verb === 'remove-role' ? `roles/${encodeURIComponent(confirming.role ?? '')}/remove` : confirming.verb;
                        setConfirming(null);
                        act(() => api('POST', `/api/v1/admin/users/${u.id}/${verb}`, { reason }));
                      }} />
                  ) : (
                    <>
                      <button type="button" onClick={() => ask(u.id, 'unlock')}>
                        {t('unlock')}
                      </button>
                      <button type="button" onClick={() => ask(u.id, 'reset-mfa')}>
                        {t('resetMfa')}
                      </button>
                      {u.disabled ? (
                        <button type="button" onClick={() => ask(u.id, 'enable')}>
                          {t('enable')}
                        </button>
                      ) : (
                        <button type="button" onClick={() => ask(u.id, 'disable')}>
                          {t('disable')}
                        </button>
                      )}
                    </>
                  )}
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
      {steward && (
        // A further role for an existing user (users may hold several); roles that need a
        // second person's approval appear below as pending.
        <form className="card" data-testid="add-role" onSubmit={(e) => {
          e.preventDefault();
          if (!extraRole.user) return;
          act(() => api('POST', `/api/v1/admin/users/${encodeURIComponent(extraRole.user)}/roles`, { role: extraRole.role, reason: extraRole.reason }));
        }}>
          <h3>{t('addRoleTitle')}</h3>
          <label>
            {t('addRoleUser')}
            <select required value={extraRole.user} onChange={(e) => setExtraRole({ ...extraRole, user: e.target.value })}>
              <option value="">{t('runChoose')}</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.id}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('addRoleRole')}
            <select value={extraRole.role} onChange={(e) => setExtraRole({ ...extraRole, role: e.target.value })}>
              {Object.keys(roleLabels).map((r) => (
                <option key={r} value={r}>
                  {codeLabel(roleLabels, lang, r)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('actionReason')}
            <input required maxLength={1000} value={extraRole.reason} placeholder={t('actionReasonHint')} onChange={(e) => setExtraRole({ ...extraRole, reason: e.target.value })} />
          </label>
          <button type="submit">{t('addRoleButton')}</button>
        </form>
      )}
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
                <td>{codeLabel(roleLabels, lang, g.role)}</td>
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
      {steward && <CodeListForm />}
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
                <option key={r} value={r}>
                  {codeLabel(roleLabels, lang, r)}
                </option>
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
  const { t, pick, lang } = useI18n();
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
        setMessage(`${t('error')}: ${describeError(lang, ae)} ${ae.problems.slice(0, 5).map((p: any) => `${p.row ? `${p.row}: ` : ''}${p.message?.[lang] ?? ''}`).join('; ')}`);
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

// The operator's code lists for licensed terminologies (ICD-10, ICD-O-3, MedDRA …): codes only,
// one per line ("code<TAB>title" lines keep the code); the clinical form's code picker
// suggests from them and the server refuses codes outside a loaded list (data stewards).
export function CodeListForm() {
  const { t, pick, lang } = useI18n();
  const [systems, setSystems] = useState<{ code: string; label: Bilingual }[]>([]);
  const [system, setSystem] = useState('');
  const [codes, setCodes] = useState('');
  const [message, setMessage] = useState('');
  useEffect(() => {
    api<{ code_systems: { code: string; label: Bilingual }[] }>('GET', '/api/v1/dictionary')
      .then((d) => {
        setSystems(d.code_systems);
        setSystem(d.code_systems[0]?.code ?? '');
      })
      .catch(() => setSystems([]));
  }, []);
  return (
    <form className="card" data-testid="code-list-form" onSubmit={async (e) => {
      e.preventDefault();
      setMessage('');
      try {
        const r = await sendBytes('PUT', `/api/v1/code-lists/${encodeURIComponent(system)}`, new Blob([codes], { type: 'text/plain' }), 'text/plain', () => undefined);
        setMessage(t('codeListSaved', { n: r.codes }));
      } catch (err) {
        setMessage(`${t('error')}: ${describeError(lang, err)}`);
      }
    }}>
      <h3>{t('codeListTitle')}</h3>
      <label>
        {t('codeSystem')}
        <select value={system} onChange={(e) => setSystem(e.target.value)}>
          {systems.map((s) => (
            <option key={s.code} value={s.code}>
              {pick(s.label)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('codeListCodes')}
        <textarea rows={6} value={codes} onChange={(e) => setCodes(e.target.value)} />
      </label>
      <button type="submit" disabled={!system || !codes.trim()}>
        {t('codeListLoad')}
      </button>
      <p role="status" data-testid="code-list-status">{message}</p>
    </form>
  );
}
