// Data-use applications (issue 6, R4.3–R4.5): researchers write and submit them; the review
// committee reads an application with its track's rules, the DUO pre-screen and the whole
// history before it comments, votes and records the decision; stewards read them. What the
// caller may do is the server's: the forms only appear where its guards could pass (committee
// role, state `submitted`, not the applicant's organisation), and any refusal is shown with its
// meaning in ja/en.
import { useEffect, useState } from 'react';
import { api, ApiError, sendBytes, type SessionInfo } from '../api';
import { diseaseLabel, useI18n } from '../i18n';
import { label } from '../labels';
import { Sha256, sha256File } from '../sha256';
import { consolePath, navigate, useTitle } from '../router';
import {
  applicationStates, bytes, documentKinds, errorWords, grantStatuses, historyKinds, outcomes, planFields, primaryPurposes,
  requirements, tracks, useSharingText, votes,
} from './sharingText';

export interface Purpose {
  primary: string;
  disease: string;
  commercial: boolean;
  methods_development: boolean;
  ancestry: boolean;
}

export interface Grant {
  id: string;
  application_id: string;
  holder: string;
  organisation: string;
  datasets: string[];
  data_types: string[];
  purpose: Purpose;
  track: string;
  starts_at: string;
  expires_at: string;
  status: string;
  revoked_at: string | null;
  revoke_reason: string | null;
}

interface Application {
  id: string;
  applicant: string;
  organisation: string;
  track: string;
  title: string;
  abstract: string;
  principal_investigator: string;
  collaborators: string[];
  data_security_plan: string;
  purpose: Purpose;
  datasets: string[];
  data_types: string[];
  fastq_justification: string | null;
  ethics: Record<string, unknown>;
  agreement: Record<string, unknown>;
  fee: Record<string, unknown>;
  start_date: string;
  end_date: string;
  state: string;
  created_at: string;
  updated_at: string;
}

interface Detail extends Application {
  history: { seq: number; kind: string; user: string; organisation: string; vote: string | null; body: string | null; time: string }[];
  tally: { approve: number; reject: number; abstain: number; conflicted: number; outcome: string; reason: string };
  missing_requirements: string[];
  grant: Grant | null;
  documents: AppDocument[];
}

// A document of the application as the server recorded it (issue 14): the bytes are kept
// encrypted by the server and read through GET …/documents/{kind}.
interface AppDocument {
  kind: string;
  file_name: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

const documentPath = (id: string, kind: string) => `/api/v1/applications/${encodeURIComponent(id)}/documents/${kind}`;

// Uploads one document of a draft with progress; the server answers with its record.
function uploadDocument(id: string, kind: string, file: File, onProgress: (f: number) => void): Promise<AppDocument> {
  return sendBytes('PUT', `${documentPath(id, kind)}?file_name=${encodeURIComponent(file.name)}`, file, file.type || 'application/octet-stream', onProgress);
}

// A server error about a plan field or a document, in the user's language and naming the item.
function itemWords(lang: 'ja' | 'en', e: unknown, s: ReturnType<typeof useSharingText>): string {
  const err = e as { code?: string; field?: string };
  const plan = err.field ? planFields[err.field] : undefined;
  if (err.code === 'missing_field' && plan) return s('fieldRequired', { field: plan[lang] });
  return errorWords(lang, e);
}

interface Rules {
  tracks: { track: string; requirements: string[]; for_profit: boolean; label: { ja: string; en: string } }[];
  decision_rule: { min_decisive_votes: number };
}

export interface DatasetRow {
  id: string;
  name: { ja: string; en: string };
  program: string;
  group_id: string;
  description: string;
  releases: { id: string; tier: string; release_date: string; controlled_at: string; public_aggregates_at: string | null }[];
  visible_files: number;
  visible_participants: number;
}

interface PrescreenRow {
  dataset_id: string;
  participants: number;
  covered: number;
  not_covered: number;
  withdrawn: number;
  reasons: Record<string, number>;
}

// The pre-screen's reasons (consent::Match's sentences) in Japanese; English as sent.
const reasonPatterns: [RegExp, string][] = [
  [/^the participant has withdrawn fully$/, '全面撤回'],
  [/^no consent in force$/, '有効な同意なし'],
  [/^research category (\w+) is outside the consented scope \((\w+)\)$/, '研究区分 $1 は同意の範囲（$2）外'],
  [/^methods development is excluded \(NMDS\)$/, '手法開発は同意の対象外（NMDS）'],
  [/^commercial use is excluded \(([\w/]+)\)$/, '営利目的は同意の対象外（$1）'],
  [/^use outside the country is excluded \(GS\)$/, '国外での利用は同意の対象外（GS）'],
  [/^withdrawal \((\w+)\) or the consent items exclude .*$/, '撤回（$1）または同意項目で除外'],
  [/^the consent items exclude .*$/, '同意項目で除外'],
];
function reasonWords(lang: 'ja' | 'en', reason: string): string {
  if (lang === 'en') return reason;
  for (const [re, ja] of reasonPatterns) if (re.test(reason)) return reason.replace(re, ja);
  return '同意の範囲外';
}

const time = (s: string | null | undefined) => (s ? s.slice(0, 16).replace('T', ' ') : '—');

export function purposeText(lang: 'ja' | 'en', p: Purpose): string {
  const primary = primaryPurposes.find((x) => x.code === p.primary);
  const parts = [primary ? primary.label[lang] : p.primary];
  if (p.primary === 'DS' && p.disease) parts.push(diseaseLabel(lang, p.disease));
  if (p.commercial) parts.push(lang === 'ja' ? '営利 (NCU なし)' : 'commercial');
  if (p.methods_development) parts.push(lang === 'ja' ? '手法開発 (MDS)' : 'methods development');
  if (p.ancestry) parts.push(lang === 'ja' ? '祖先研究' : 'ancestry');
  return parts.join(' · ');
}

// /console/applications[/<id>]: the open application is part of the URL (deep link, reload,
// Back).
export function ApplicationsPage({ session, selectedId = '' }: { session: SessionInfo; selectedId?: string }) {
  const s = useSharingText();
  const { t, lang } = useI18n();
  const [items, setItems] = useState<Application[] | null>(null);
  const open = selectedId || null;
  const setOpen = (id: string | null) => navigate(consolePath('applications', id ?? ''));
  useTitle(open ?? '', open ? `${t('navApplications')} | ${t('appName')}` : '');
  const [creating, setCreating] = useState(false);
  const [datasets, setDatasets] = useState<DatasetRow[]>([]);
  const [error, setError] = useState('');
  const researcher = session.roles.includes('researcher');
  const load = () =>
    api<{ items: Application[] }>('GET', '/api/v1/applications')
      .then((r) => setItems(r.items))
      .catch((e) => setError(errorWords(lang, e)));
  useEffect(() => {
    load();
    api<{ items: DatasetRow[] }>('GET', '/api/v1/datasets')
      .then((r) => setDatasets(r.items))
      .catch(() => setDatasets([]));
  }, []);
  const dsName = (id: string) => datasets.find((d) => d.id === id)?.name[lang] ?? id;
  if (open) {
    return (
      <ApplicationDetail
        id={open}
        session={session}
        datasetName={dsName}
        onBack={() => {
          setOpen(null);
          load();
        }}
      />
    );
  }
  const review = (items ?? []).filter((a) => a.state === 'submitted');
  const others = (items ?? []).filter((a) => a.state !== 'submitted');
  const list = (rows: Application[], testid: string, labelId: string) =>
    rows.length === 0 ? (
      <p className="muted">{s('noApplications')}</p>
    ) : (
      <div className="table-wrap">
        <table data-testid={testid} aria-labelledby={labelId}>
          <thead>
            <tr>
              <th scope="col">{s('titleField')}</th>
              <th scope="col">{s('track')}</th>
              <th scope="col">{s('applicant')}</th>
              <th scope="col">{s('purpose')}</th>
              <th scope="col">{s('state')}</th>
              <th scope="col">{s('time')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.id} data-application={a.id} data-track={a.track} data-state={a.state}>
                <td>
                  <button type="button" className="link" onClick={() => setOpen(a.id)}>
                    {a.title}
                  </button>
                </td>
                <td>{label(tracks, lang, a.track)}</td>
                <td>
                  {a.applicant} ({a.organisation})
                </td>
                <td>{purposeText(lang, a.purpose)}</td>
                <td>{label(applicationStates, lang, a.state)}</td>
                <td>{time(a.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <div className="sharing">
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {researcher && (
        <div className="actions">
          <button type="button" className="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
            {s('newApplication')}
          </button>
        </div>
      )}
      {researcher && creating && (
        <ApplicationForm
          datasets={datasets}
          onCreated={(id) => {
            setCreating(false);
            setOpen(id);
          }}
        />
      )}
      <section className="card" aria-labelledby="h-review">
        <h2 id="h-review">
          {researcher ? s('myApplications') : s('underReview')} ({researcher ? (items ?? []).length : review.length})
        </h2>
        {items === null ? <p aria-busy="true">…</p> : list(researcher ? items : review, 'applications-review', 'h-review')}
      </section>
      {!researcher && (
        <section className="card" aria-labelledby="h-other-apps">
          <h2 id="h-other-apps">
            {s('otherApplications')} ({others.length})
          </h2>
          {list(others, 'applications-other', 'h-other-apps')}
        </section>
      )}
    </div>
  );
}

// ---- one application ---------------------------------------------------------------------------

function ApplicationDetail({ id, session, datasetName, onBack }: {
  id: string; session: SessionInfo; datasetName: (id: string) => string; onBack: () => void;
}) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [d, setD] = useState<Detail | null>(null);
  const [rules, setRules] = useState<Rules | null>(null);
  const [prescreen, setPrescreen] = useState<PrescreenRow[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<Detail>('GET', `/api/v1/applications/${id}`).then(setD).catch((e) => setError(errorWords(lang, e)));
    api<Rules>('GET', '/api/v1/sharing-rules').then(setRules).catch(() => setRules(null));
    api<{ items: PrescreenRow[] }>('GET', `/api/v1/applications/${id}/prescreen`)
      .then((r) => setPrescreen(r.items))
      .catch(() => setPrescreen([]));
  }, [id]);
  if (!d) {
    return error ? (
      <p role="alert" className="error">
        {error}
      </p>
    ) : (
      <p aria-busy="true">…</p>
    );
  }
  const committee = session.roles.includes('committee_member');
  const conflicted = committee && (session.organisation === d.organisation || session.user === d.applicant);
  const isApplicant = session.user === d.applicant;
  const track = rules?.tracks.find((t) => t.track === d.track);
  const ethics = d.ethics as { file_name?: string; sha256?: string; size?: number; approval_number?: string; approved_on?: string };
  const agreement = d.agreement as { signed_on?: string; sha256?: string; reference?: string };
  const fee = d.fee as { invoice_no?: string; amount_jpy?: number; paid_on?: string };
  return (
    <div className="sharing application" data-application={d.id}>
      <button type="button" onClick={onBack}>
        {s('back')}
      </button>
      <section className="card" aria-labelledby="h-application">
        <h2 id="h-application" data-testid="application-title">
          {d.title}
        </h2>
        <p>
          <strong data-testid="application-state" data-state={d.state}>
            {label(applicationStates, lang, d.state)}
          </strong>{' '}
          · {label(tracks, lang, d.track)} · <span className="mono">{d.id}</span>
        </p>
        <dl className="facts" data-testid="application-facts">
          <dt>{s('applicant')}</dt>
          <dd>
            {d.applicant} ({d.organisation})
          </dd>
          <dt>{planFields.principal_investigator[lang]}</dt>
          <dd data-testid="application-pi">{d.principal_investigator || s('none')}</dd>
          <dt>{planFields.collaborators[lang]}</dt>
          <dd>{d.collaborators.length ? d.collaborators.join('、') : s('none')}</dd>
          <dt>{planFields.abstract[lang]}</dt>
          <dd className="prewrap" data-testid="application-abstract">{d.abstract || s('none')}</dd>
          <dt>{planFields.data_security_plan[lang]}</dt>
          <dd className="prewrap">{d.data_security_plan || s('none')}</dd>
          <dt>{s('purpose')}</dt>
          <dd>{purposeText(lang, d.purpose)}</dd>
          <dt>{s('datasets')}</dt>
          <dd>{d.datasets.map(datasetName).join(', ')}</dd>
          <dt>{s('dataTypes')}</dt>
          <dd>{d.data_types.map((x) => x.toUpperCase()).join(', ')}</dd>
          {d.fastq_justification && (
            <>
              <dt>{s('fastqJustification')}</dt>
              <dd>{d.fastq_justification}</dd>
            </>
          )}
          <dt>{s('ethics')}</dt>
          <dd>
            {ethics.file_name ? (
              <>
                {ethics.file_name} ({bytes(ethics.size ?? 0)}) {ethics.approval_number ?? ''} {ethics.approved_on ?? ''}
                <br />
                <span className="mono">SHA-256 {ethics.sha256}</span>
              </>
            ) : (
              s('none')
            )}
          </dd>
          {(d.track === 'industry' || agreement.signed_on) && (
            <>
              <dt>{s('agreement')}</dt>
              <dd>
                {agreement.signed_on ? (
                  <>
                    {agreement.reference ?? ''} {agreement.signed_on}
                    <br />
                    <span className="mono">SHA-256 {agreement.sha256}</span>
                  </>
                ) : (
                  s('none')
                )}
              </dd>
              <dt>{s('fee')}</dt>
              <dd>{fee.invoice_no ? `${fee.invoice_no} · ¥${(fee.amount_jpy ?? 0).toLocaleString()} · ${fee.paid_on}` : s('none')}</dd>
            </>
          )}
          <dt>{s('period')}</dt>
          <dd>
            {d.start_date} – {d.end_date}
          </dd>
        </dl>
      </section>

      <Documents d={d} editable={isApplicant && d.state === 'draft'} onChanged={() => api<Detail>('GET', `/api/v1/applications/${id}`).then(setD)} />

      <section className="card" aria-labelledby="h-track-rules">
        <h3 id="h-track-rules">
          {s('trackRules')}: {track ? track.label[lang] : label(tracks, lang, d.track)}
        </h3>
        <table data-testid="track-rules" aria-labelledby="h-track-rules">
          <thead>
            <tr>
              <th scope="col">{s('requirement')}</th>
              <th scope="col">{s('state')}</th>
            </tr>
          </thead>
          <tbody>
            {(track?.requirements ?? []).map((r) => (
              <tr key={r}>
                <td>{label(requirements, lang, r)}</td>
                <td>{d.missing_requirements.includes(r) ? s('notMet') : s('met')}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">{s('decisionRule', { n: rules?.decision_rule.min_decisive_votes ?? 2 })}</p>
      </section>

      <section className="card" aria-labelledby="h-prescreen">
        <h3 id="h-prescreen">{s('prescreen')}</h3>
        <p className="muted">{s('prescreenIntro')}</p>
        <table data-testid="prescreen" aria-labelledby="h-prescreen">
          <thead>
            <tr>
              <th scope="col">{s('dataset')}</th>
              <th scope="col">{s('participants')}</th>
              <th scope="col">{s('covered')}</th>
              <th scope="col">{s('notCovered')}</th>
              <th scope="col">{s('withdrawn')}</th>
              <th scope="col">{s('reasons')}</th>
            </tr>
          </thead>
          <tbody>
            {(prescreen ?? []).map((r) => (
              <tr key={r.dataset_id}>
                <td>{datasetName(r.dataset_id)}</td>
                <td>{r.participants}</td>
                <td data-testid="prescreen-covered">{r.covered}</td>
                <td>{r.not_covered}</td>
                <td>{r.withdrawn}</td>
                <td>
                  {Object.entries(r.reasons)
                    .map(([k, v]) => `${reasonWords(lang, k)}: ${v}`)
                    .join('; ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card" aria-labelledby="h-history">
        <h3 id="h-history">{s('history')}</h3>
        <table data-testid="application-history" aria-labelledby="h-history">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{s('time')}</th>
              <th scope="col">{s('kind')}</th>
              <th scope="col">{s('user')}</th>
              <th scope="col">{s('vote')}</th>
              <th scope="col">{s('body')}</th>
            </tr>
          </thead>
          <tbody>
            {d.history.map((h) => (
              <tr key={h.seq}>
                <td>{h.seq}</td>
                <td>{time(h.time)}</td>
                <td>{label(historyKinds, lang, h.kind)}</td>
                <td>
                  {h.user} ({h.organisation})
                </td>
                <td>{h.vote ? label(h.kind === 'decision' ? outcomes : votes, lang, h.vote) : ''}</td>
                <td>{h.body ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p data-testid="tally">
          {s('tally')}: {s('tallyLine', d.tally)} — {s('outcomeNow')}: <strong>{label(outcomes, lang, d.tally.outcome)}</strong>
        </p>
      </section>

      {d.grant && <GrantFacts grant={d.grant} />}

      {committee && conflicted && (
        <section className="card notice" role="note" aria-labelledby="h-conflict" data-testid="conflict-notice">
          <h3 id="h-conflict">{s('conflictTitle')}</h3>
          <p>{s('conflictBody', { org: d.organisation })}</p>
        </section>
      )}
      {committee && !conflicted && d.state === 'submitted' && <ReviewForms d={d} onChanged={setD} />}
      {committee && !conflicted && d.state !== 'submitted' && <p className="muted">{s('notUnderReview')}</p>}
      {isApplicant && <ApplicantActions d={d} onChanged={setD} />}
    </div>
  );
}

// The application's documents: name, size, SHA-256 and a "read" button that fetches the bytes
// with the session, checks them against the recorded SHA-256 and opens them from a blob URL
// (a PDF in the browser's viewer, text shown here too). The applicant adds or replaces them
// while the application is a draft.
function Documents({ d, editable, onChanged }: { d: Detail; editable: boolean; onChanged: () => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const kinds = Object.keys(documentKinds);
  const shown = editable ? kinds : kinds.filter((k) => d.documents.some((x) => x.kind === k));
  return (
    <section className="card" aria-labelledby="h-documents">
      <h3 id="h-documents">{s('documents')}</h3>
      <p className="muted">{s('documentsIntro')}</p>
      {shown.length === 0 ? (
        <p className="muted" data-testid="no-documents">
          {s('noDocuments')}
        </p>
      ) : (
        <table data-testid="application-documents" aria-labelledby="h-documents">
          <thead>
            <tr>
              <th scope="col">{s('documentKind')}</th>
              <th scope="col">{s('fileName')}</th>
              <th scope="col">{s('size')}</th>
              <th scope="col">SHA-256</th>
              <th scope="col">{s('read')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((kind) => {
              const doc = d.documents.find((x) => x.kind === kind);
              return (
                <tr key={kind} data-document={kind}>
                  <td>{documentKinds[kind][lang]}</td>
                  <td>{doc ? doc.file_name : s('none')}</td>
                  <td>{doc ? bytes(doc.size) : ''}</td>
                  <td className="mono small" data-testid={`document-sha256-${kind}`}>
                    {doc?.sha256 ?? ''}
                  </td>
                  <td>
                    {doc && <DocumentReader appId={d.id} doc={doc} />}
                    {editable && <DocumentUpload appId={d.id} kind={kind} onUploaded={onChanged} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DocumentReader({ appId, doc }: { appId: string; doc: AppDocument }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [opened, setOpened] = useState<{ url: string; sha256: string; text: string | null } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => () => {
    if (opened) URL.revokeObjectURL(opened.url);
  }, [opened]);
  const name = documentKinds[doc.kind]?.[lang] ?? doc.kind;
  const read = async () => {
    setError('');
    setBusy(true);
    try {
      const resp = await fetch(documentPath(appId, doc.kind), { credentials: 'same-origin' });
      if (!resp.ok) {
        let e: { code?: string; message?: string; field?: string } = {};
        try {
          e = (await resp.json()).error ?? {};
        } catch {
          e = {};
        }
        throw new ApiError(resp.status, e.code ?? 'http_error', e.message ?? `HTTP ${resp.status}`, e.field);
      }
      const body = new Uint8Array(await resp.arrayBuffer());
      const sha256 = new Sha256().update(body).hex();
      const blob = new Blob([body], { type: doc.content_type === 'application/pdf' ? 'application/pdf' : 'text/plain;charset=utf-8' });
      const text = doc.content_type === 'application/pdf' ? null : new TextDecoder().decode(body);
      setOpened({ url: URL.createObjectURL(blob), sha256, text });
    } catch (e) {
      setError(errorWords(lang, e));
    } finally {
      setBusy(false);
    }
  };
  const ok = opened?.sha256 === doc.sha256;
  return (
    <div className="document-reader">
      <button type="button" onClick={read} disabled={busy} aria-label={s('readNamed', { name })}>
        {s('read')}
      </button>
      {opened && (
        <div data-testid={`document-opened-${doc.kind}`} data-sha256={opened.sha256} data-verified={ok ? 'true' : 'false'}>
          <p className={ok ? '' : 'error'} role={ok ? undefined : 'alert'}>
            {ok ? s('shaMatches') : s('shaDiffers')}
          </p>
          <a href={opened.url} target="_blank" rel="noopener" data-testid={`document-link-${doc.kind}`}>
            {s('openInTab', { name: doc.file_name })}
          </a>
          {opened.text !== null && (
            <pre className="document-text" data-testid={`document-text-${doc.kind}`} tabIndex={0} aria-label={name}>
              {opened.text}
            </pre>
          )}
        </div>
      )}
      {error && (
        <p role="alert" className="error" data-testid={`document-error-${doc.kind}`}>
          {error}
        </p>
      )}
    </div>
  );
}

// One document's file input on a draft: uploads on choosing, with progress and the error next
// to the item.
function DocumentUpload({ appId, kind, onUploaded }: { appId: string; kind: string; onUploaded: () => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState('');
  const id = `upload-${kind}`;
  return (
    <div>
      <label htmlFor={id}>{s('uploadNamed', { name: documentKinds[kind][lang] })}</label>
      <input
        id={id}
        type="file"
        accept="application/pdf,text/plain,.pdf,.txt"
        onChange={async (e) => {
          const file = e.target.files?.[0];
          if (!file) return;
          setError('');
          setProgress(0);
          try {
            await uploadDocument(appId, kind, file, setProgress);
            onUploaded();
          } catch (err) {
            setError(errorWords(lang, err));
          } finally {
            setProgress(null);
          }
        }}
      />
      {progress !== null && <progress value={progress} max={1} aria-label={s('uploading')} />}
      {error && (
        <p role="alert" className="error" data-testid={`upload-error-${kind}`}>
          {error}
        </p>
      )}
    </div>
  );
}

function GrantFacts({ grant }: { grant: Grant }) {
  const s = useSharingText();
  const { lang } = useI18n();
  return (
    <section className="card" aria-labelledby="h-grant" data-testid="application-grant" data-grant={grant.id}>
      <h3 id="h-grant">{s('grantIssued')}</h3>
      <dl className="facts">
        <dt>{s('grant')}</dt>
        <dd className="mono">{grant.id}</dd>
        <dt>{s('status')}</dt>
        <dd data-testid="grant-status">{label(grantStatuses, lang, grant.status)}</dd>
        <dt>{s('holder')}</dt>
        <dd>
          {grant.holder} ({grant.organisation})
        </dd>
        <dt>{s('dataTypes')}</dt>
        <dd>{grant.data_types.map((x) => x.toUpperCase()).join(', ')}</dd>
        <dt>{s('startsAt')}</dt>
        <dd>{time(grant.starts_at)}</dd>
        <dt>{s('expiresAt')}</dt>
        <dd>{time(grant.expires_at)}</dd>
      </dl>
    </section>
  );
}

function ReviewForms({ d, onChanged }: { d: Detail; onChanged: (d: Detail) => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [comment, setComment] = useState('');
  const [vote, setVote] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<{ where: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (where: string, f: () => Promise<Detail>) => {
    setError(null);
    setBusy(true);
    try {
      onChanged(await f());
      return true;
    } catch (e) {
      setError({ where, text: errorWords(lang, e) });
      return false;
    } finally {
      setBusy(false);
    }
  };
  const err = (where: string) =>
    error?.where === where ? (
      <p role="alert" className="error" data-testid={`error-${where}`}>
        {error.text}
      </p>
    ) : null;
  return (
    <>
      <form
        className="card"
        aria-labelledby="h-comment"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run('comment', () => api<Detail>('POST', `/api/v1/applications/${d.id}/comments`, { body: comment }))) setComment('');
        }}
      >
        <h3 id="h-comment">{s('comment')}</h3>
        <label>
          {s('comment')}
          <textarea value={comment} onChange={(e) => setComment(e.target.value)} required maxLength={4000} rows={3} cols={60} />
        </label>
        <button type="submit" disabled={busy}>
          {s('addComment')}
        </button>
        {err('comment')}
      </form>
      <form
        className="card"
        aria-labelledby="h-vote"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run('vote', () => api<Detail>('POST', `/api/v1/applications/${d.id}/votes`, { vote, reason: reason || undefined }))) setReason('');
        }}
      >
        <h3 id="h-vote">{s('yourVote')}</h3>
        <fieldset className="field">
          <legend>{s('vote')}</legend>
          {Object.keys(votes).map((v) => (
            <label key={v} className="radio">
              <input type="radio" name="vote" value={v} checked={vote === v} onChange={() => setVote(v)} required />
              {label(votes, lang, v)}
            </label>
          ))}
        </fieldset>
        <label>
          {vote === 'reject' ? s('rejectReason') : s('voteReason')}
          <input value={reason} onChange={(e) => setReason(e.target.value)} required={vote === 'reject'} maxLength={2000} size={60} />
        </label>
        <button type="submit" disabled={busy}>
          {s('castVote')}
        </button>
        {err('vote')}
      </form>
      <section className="card" aria-labelledby="h-decide">
        <h3 id="h-decide">{s('decide')}</h3>
        <p>{s('decideHelp')}</p>
        <p>
          {s('tallyLine', d.tally)} → <strong>{label(outcomes, lang, d.tally.outcome)}</strong>
        </p>
        {!confirming ? (
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() =>
              // Without a quorum nothing would be decided: the server says so without a confirmation.
              d.tally.outcome === 'pending'
                ? run('decision', () => api<Detail>('POST', `/api/v1/applications/${d.id}/decision`, {}))
                : setConfirming(true)
            }
          >
            {s('decide')}
          </button>
        ) : (
          <div role="group" aria-labelledby="decide-confirm" className="confirm" data-testid="decide-confirm">
            <p id="decide-confirm">
              <strong>{s('decideConfirm', { outcome: label(outcomes, lang, d.tally.outcome) })}</strong>
            </p>
            <div className="actions">
              <button
                type="button"
                className="primary"
                disabled={busy}
                onClick={async () => {
                  await run('decision', () => api<Detail>('POST', `/api/v1/applications/${d.id}/decision`, {}));
                  setConfirming(false);
                }}
              >
                {s('decideYes', { outcome: label(outcomes, lang, d.tally.outcome) })}
              </button>
              <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
                {s('cancel')}
              </button>
            </div>
          </div>
        )}
        {err('decision')}
      </section>
    </>
  );
}

function ApplicantActions({ d, onChanged }: { d: Detail; onChanged: (d: Detail) => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [error, setError] = useState('');
  const act = async (path: string) => {
    setError('');
    try {
      onChanged(await api<Detail>('POST', `/api/v1/applications/${d.id}/${path}`, {}));
    } catch (e) {
      setError(itemWords(lang, e, s));
    }
  };
  if (d.state !== 'draft' && d.state !== 'submitted') return null;
  return (
    <section className="card" aria-labelledby="h-applicant-actions">
      <h3 id="h-applicant-actions">{s('missingRequirements')}</h3>
      <p data-testid="missing-requirements">
        {d.missing_requirements.length ? d.missing_requirements.map((r) => label(requirements, lang, r)).join(', ') : s('noneMissing')}
      </p>
      <div className="actions">
        {d.state === 'draft' && (
          <button type="button" className="primary" onClick={() => act('submit')}>
            {s('submit')}
          </button>
        )}
        <button type="button" onClick={() => act('withdraw')}>
          {s('withdraw')}
        </button>
      </div>
      {error && (
        <p role="alert" className="error" data-testid="applicant-error">
          {error}
        </p>
      )}
    </section>
  );
}

// ---- the application form ------------------------------------------------------------------------

const diseaseCodes = ['lung', 'colorectal', 'breast', 'gastric', 'pancreatic', 'sarcoma', 'rd_neuromuscular', 'rd_epilepsy', 'rd_cardiomyopathy', 'rd_skeletal_dysplasia'];

interface Fingerprint {
  file_name: string;
  sha256: string;
  size: number;
  file: File; // uploaded once the draft exists
}

function FileFingerprint({ id, labelText, value, onChange, upload, uploadError }: {
  id: string; labelText: string; value: Fingerprint | null; onChange: (f: Fingerprint | null) => void;
  upload?: number | null; uploadError?: string;
}) {
  const s = useSharingText();
  const [progress, setProgress] = useState<number | null>(null);
  return (
    <div>
      <label htmlFor={id}>{labelText}</label>
      <input
        id={id}
        type="file"
        accept="application/pdf,text/plain,.pdf,.txt"
        onChange={async (e) => {
          const file = e.target.files?.[0];
          onChange(null);
          if (!file) return;
          setProgress(0);
          const sha256 = await sha256File(file, setProgress);
          setProgress(null);
          onChange({ file_name: file.name, sha256, size: file.size, file });
        }}
      />
      {progress !== null && (
        <label className="progress-rows">
          {s('hashing')}
          <progress value={progress} max={1} />
        </label>
      )}
      {value && (
        <p className="mono" data-testid={`${id}-sha256`}>
          {value.file_name} · {bytes(value.size)} · SHA-256 {value.sha256}
        </p>
      )}
      {upload !== undefined && upload !== null && (
        <label className="progress-rows">
          {s('uploading')}
          <progress value={upload} max={1} data-testid={`${id}-progress`} />
        </label>
      )}
      {uploadError && (
        <p role="alert" className="error" data-testid={`${id}-error`}>
          {uploadError}
        </p>
      )}
    </div>
  );
}

function ApplicationForm({ datasets, onCreated }: { datasets: DatasetRow[]; onCreated: (id: string) => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const today = new Date().toISOString().slice(0, 10);
  const nextYear = new Date(Date.now() + 365 * 86400_000).toISOString().slice(0, 10);
  const [title, setTitle] = useState('');
  const [abstract, setAbstract] = useState('');
  const [pi, setPi] = useState('');
  const [collaborators, setCollaborators] = useState('');
  const [securityPlan, setSecurityPlan] = useState('');
  const [protocol, setProtocol] = useState<Fingerprint | null>(null);
  const [uploads, setUploads] = useState<Record<string, number | null>>({});
  const [uploadErrors, setUploadErrors] = useState<Record<string, string>>({});
  const [draftId, setDraftId] = useState('');
  const [primary, setPrimary] = useState('HMB');
  const [disease, setDisease] = useState('');
  const [commercial, setCommercial] = useState(false);
  const [methods, setMethods] = useState(false);
  const [ancestry, setAncestry] = useState(false);
  const [chosen, setChosen] = useState<string[]>([]);
  const [types, setTypes] = useState<string[]>(['cram', 'vcf']);
  const [justification, setJustification] = useState('');
  const [ethics, setEthics] = useState<Fingerprint | null>(null);
  const [approvalNumber, setApprovalNumber] = useState('');
  const [approvedOn, setApprovedOn] = useState('');
  const [agreement, setAgreement] = useState<Fingerprint | null>(null);
  const [signedOn, setSignedOn] = useState('');
  const [reference, setReference] = useState('');
  const [invoice, setInvoice] = useState('');
  const [amount, setAmount] = useState('');
  const [paidOn, setPaidOn] = useState('');
  const [start, setStart] = useState(today);
  const [end, setEnd] = useState(nextYear);
  const [error, setError] = useState('');
  const toggle = (list: string[], v: string, on: boolean) => (on ? [...list, v] : list.filter((x) => x !== v));
  return (
    <form
      className="card"
      aria-labelledby="h-new-application"
      data-testid="application-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        setUploadErrors({});
        const body: Record<string, unknown> = {
          title,
          abstract,
          principal_investigator: pi,
          collaborators: collaborators.split('\n').map((x) => x.trim()).filter((x) => x),
          data_security_plan: securityPlan,
          purpose: {
            primary,
            disease: primary === 'DS' ? disease : undefined,
            commercial,
            methods_development: methods,
            ancestry,
          },
          datasets: chosen,
          data_types: types,
          fastq_justification: types.includes('fastq') ? justification : undefined,
          start_date: start,
          end_date: end,
        };
        if (ethics) {
          body.ethics = {
            file_name: ethics.file_name, sha256: ethics.sha256, size: ethics.size,
            approval_number: approvalNumber || undefined, approved_on: approvedOn || undefined,
          };
        }
        if (agreement && signedOn) body.agreement = { signed_on: signedOn, sha256: agreement.sha256, reference: reference || undefined };
        if (invoice || amount || paidOn) body.fee = { invoice_no: invoice, amount_jpy: Number(amount), paid_on: paidOn };
        let id = draftId;
        if (!id) {
          try {
            id = (await api<Detail>('POST', '/api/v1/applications', body)).id;
            setDraftId(id);
          } catch (err) {
            setError(itemWords(lang, err, s));
            return;
          }
        }
        // The documents go to the draft, one by one, each with its progress and its error.
        const files: [string, Fingerprint | null][] = [['ethics_approval', ethics], ['protocol', protocol], ['signed_agreement', agreement]];
        let failed = false;
        for (const [kind, f] of files) {
          if (!f) continue;
          try {
            await uploadDocument(id, kind, f.file, (x) => setUploads((u) => ({ ...u, [kind]: x })));
          } catch (err) {
            failed = true;
            setUploadErrors((u) => ({ ...u, [kind]: errorWords(lang, err) }));
          } finally {
            setUploads((u) => ({ ...u, [kind]: null }));
          }
        }
        if (failed) setError(s('draftKeptUploadFailed'));
        else onCreated(id);
      }}
    >
      <h2 id="h-new-application">{s('newApplication')}</h2>
      <label>
        {s('titleField')}
        <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={500} size={60} />
      </label>
      <label>
        {planFields.principal_investigator[lang]}
        <input value={pi} onChange={(e) => setPi(e.target.value)} maxLength={200} size={60} />
      </label>
      <label>
        {planFields.collaborators[lang]}
        <textarea value={collaborators} onChange={(e) => setCollaborators(e.target.value)} rows={2} cols={60} aria-describedby="collaborators-help" />
      </label>
      <p className="field-def" id="collaborators-help">
        {s('collaboratorsHelp')}
      </p>
      <label>
        {planFields.abstract[lang]}
        <textarea value={abstract} onChange={(e) => setAbstract(e.target.value)} maxLength={4000} rows={4} cols={60} />
      </label>
      <label>
        {planFields.data_security_plan[lang]}
        <textarea value={securityPlan} onChange={(e) => setSecurityPlan(e.target.value)} maxLength={4000} rows={3} cols={60} />
      </label>
      <fieldset className="field">
        <legend>{s('primaryPurpose')}</legend>
        {primaryPurposes.map((p) => (
          <label key={p.code} className="radio">
            <input type="radio" name="primary" value={p.code} checked={primary === p.code} onChange={() => setPrimary(p.code)} />
            {p.label[lang]} <span className="field-def">{p.duo} — {p.definition[lang]}</span>
          </label>
        ))}
      </fieldset>
      {primary === 'DS' && (
        <label>
          {s('disease')}
          <select value={disease} onChange={(e) => setDisease(e.target.value)} required>
            <option value="">—</option>
            {diseaseCodes.map((c) => (
              <option key={c} value={c}>
                {diseaseLabel(lang, c)}
              </option>
            ))}
          </select>
        </label>
      )}
      <fieldset className="field">
        <legend>{s('purpose')}</legend>
        <label className="radio">
          <input type="checkbox" checked={commercial} onChange={(e) => setCommercial(e.target.checked)} />
          {s('commercial')}
        </label>
        <label className="radio">
          <input type="checkbox" checked={methods} onChange={(e) => setMethods(e.target.checked)} />
          {s('methodsDevelopment')}
        </label>
        <label className="radio">
          <input type="checkbox" checked={ancestry} onChange={(e) => setAncestry(e.target.checked)} />
          {s('ancestry')}
        </label>
      </fieldset>
      <fieldset className="field">
        <legend>{s('datasets')}</legend>
        {datasets.map((d) => (
          <label key={d.id} className="radio">
            <input type="checkbox" checked={chosen.includes(d.id)} onChange={(e) => setChosen(toggle(chosen, d.id, e.target.checked))} />
            {d.name[lang]}
          </label>
        ))}
      </fieldset>
      <fieldset className="field">
        <legend>{s('dataTypes')}</legend>
        <p className="field-def">{s('fastqHelp')}</p>
        {['cram', 'vcf', 'fastq'].map((t) => (
          <label key={t} className="radio">
            <input type="checkbox" checked={types.includes(t)} onChange={(e) => setTypes(toggle(types, t, e.target.checked))} />
            {t.toUpperCase()}
          </label>
        ))}
      </fieldset>
      {types.includes('fastq') && (
        <label>
          {s('fastqJustification')}
          <textarea value={justification} onChange={(e) => setJustification(e.target.value)} required rows={2} cols={60} />
        </label>
      )}
      <fieldset className="field">
        <legend>{s('ethics')}</legend>
        <p className="field-def">{s('fileHashHelp')}</p>
        <FileFingerprint
          id="ethics-file" labelText={s('ethicsFile')} value={ethics} onChange={setEthics}
          upload={uploads.ethics_approval} uploadError={uploadErrors.ethics_approval}
        />
        <FileFingerprint
          id="protocol-file" labelText={s('protocolFile')} value={protocol} onChange={setProtocol}
          upload={uploads.protocol} uploadError={uploadErrors.protocol}
        />
        <div className="filters">
          <label>
            {s('approvalNumber')}
            <input value={approvalNumber} onChange={(e) => setApprovalNumber(e.target.value)} maxLength={100} />
          </label>
          <label>
            {s('approvedOn')}
            <input type="date" value={approvedOn} onChange={(e) => setApprovedOn(e.target.value)} />
          </label>
        </div>
      </fieldset>
      <fieldset className="field">
        <legend>{s('industryOnly')}</legend>
        <FileFingerprint
          id="agreement-file" labelText={s('agreementFile')} value={agreement} onChange={setAgreement}
          upload={uploads.signed_agreement} uploadError={uploadErrors.signed_agreement}
        />
        <div className="filters">
          <label>
            {s('signedOn')}
            <input type="date" value={signedOn} onChange={(e) => setSignedOn(e.target.value)} />
          </label>
          <label>
            {s('reference')}
            <input value={reference} onChange={(e) => setReference(e.target.value)} />
          </label>
        </div>
        <div className="filters">
          <label>
            {s('invoiceNo')}
            <input value={invoice} onChange={(e) => setInvoice(e.target.value)} maxLength={64} />
          </label>
          <label>
            {s('amountJpy')}
            <input type="number" min={1} value={amount} onChange={(e) => setAmount(e.target.value)} />
          </label>
          <label>
            {s('paidOn')}
            <input type="date" value={paidOn} onChange={(e) => setPaidOn(e.target.value)} />
          </label>
        </div>
      </fieldset>
      <fieldset className="field">
        <legend>{s('period')}</legend>
        <div className="filters">
          <label>
            {s('startDate')}
            <input type="date" value={start} onChange={(e) => setStart(e.target.value)} required />
          </label>
          <label>
            {s('endDate')}
            <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} required />
          </label>
        </div>
      </fieldset>
      <button type="submit" className="primary">
        {draftId ? s('retryUploads') : s('saveDraft')}
      </button>
      {draftId && (
        <button type="button" onClick={() => onCreated(draftId)}>
          {s('openDraft')}
        </button>
      )}
      {error && (
        <p role="alert" className="error" data-testid="application-error">
          {error}
        </p>
      )}
    </form>
  );
}
