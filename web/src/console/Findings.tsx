// Return of results (issue 8): one page for every party. The analysis centre files findings
// and takes the expert-review steps; the data centre watches the consent check, re-sends
// escalated findings and runs the SLA sweep; the hospital reviews, contacts, counsels,
// discloses, records the patient's answers and prints the patient report. The buttons come from
// the finding's `allowed_events` (the caller's next steps, decided by the server's transition
// table); the table's `needs` says which fields a step asks for. Messages are threaded per
// finding with read receipts.
import { useEffect, useState } from 'react';
import { api, ApiError, type SessionInfo } from '../api';
import { useI18n, type Lang } from '../i18n';
import { consolePath, navigate, useTitle } from '../router';
import {
  classifications, findingErrors, findingEvents, findingStates, label, messageTypes, parties, siteDeclineReasons,
} from '../labels';
import { describeError } from '../codes';

interface Finding {
  id: string;
  participant_id: string;
  local_id?: string;
  hospital: string;
  analysis_center: string;
  gene: string;
  variant: string;
  origin: string;
  category: string;
  classification: string;
  evidence: string;
  acmg_sf_version: string | null;
  state: string;
  state_since: string;
  terminal: boolean;
  contact_attempts: number;
  supersedes: string | null;
  superseded_by: string | null;
  filed_by: string;
  filed_at: string;
  allowed_events: string[];
  history?: HistoryEvent[];
  consent?: { item: string; verdict: string; reason: string };
  messages?: number;
  unread_messages?: number;
}

interface HistoryEvent {
  seq: number;
  event: string;
  from: string;
  to: string;
  party: string;
  organisation: string;
  user: string;
  time: string;
  reason: string;
  details: Record<string, unknown>;
}

interface TableRow {
  from: string;
  event: string;
  to: string;
  party: string;
  needs: string[];
}

interface Table {
  transitions: TableRow[];
  site_decline_reasons: string[];
  message_types: string[];
}

interface Message {
  id: string;
  seq: number;
  thread_id: string;
  in_reply_to: string | null;
  party: string;
  organisation: string;
  user: string;
  recipient: string;
  type: string;
  body: string;
  consent_record_id: string | null;
  created_at: string;
  read_by: { user: string; organisation: string; read_at: string }[];
  read: boolean;
}

interface AcmgSf {
  active: string;
  versions: { version: string; year: number; gene_count: number; genes: string[] }[];
}

const verdictLabels: Record<string, { ja: string; en: string }> = {
  permit: { ja: '返却に同意', en: 'permits return' },
  deny: { ja: '返却を希望しない', en: 'does not permit return' },
  undecided: { ja: '未定', en: 'undecided' },
  withdrawn: { ja: '同意撤回', en: 'withdrawn' },
};

function useErrorText(): (e: unknown) => string {
  const { lang } = useI18n();
  return (e) => {
    // Words in the page's language only: never the code or the server's English message.
    const err = e as ApiError;
    return findingErrors[err?.code]?.[lang] ?? describeError(lang, e);
  };
}

// ---- filing --------------------------------------------------------------------------------

// The classification and its evidence, as filed and as reclassified.
function ClassificationFields({ classification, setClassification, evidence, setEvidence, rows }: {
  classification: string;
  setClassification: (c: string) => void;
  evidence: string;
  setEvidence: (e: string) => void;
  rows: number;
}) {
  const { t, lang } = useI18n();
  return (
    <>
      <label>
        {t('classification')}
        <select value={classification} onChange={(e) => setClassification(e.target.value)}>
          {Object.keys(classifications).map((c) => (
            <option key={c} value={c}>
              {label(classifications, lang, c)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('evidence')}
        <textarea value={evidence} onChange={(e) => setEvidence(e.target.value)} required maxLength={4000} rows={rows} cols={60} />
      </label>
    </>
  );
}

function FilingForm({ session, onFiled }: { session: SessionInfo; onFiled: (id: string) => void }) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const [participants, setParticipants] = useState<string[]>([]);
  const [acmg, setAcmg] = useState<AcmgSf | null>(null);
  const [participant, setParticipant] = useState('');
  const [gene, setGene] = useState('');
  const [variant, setVariant] = useState('');
  const [origin, setOrigin] = useState('somatic');
  const [category, setCategory] = useState('primary');
  const [classification, setClassification] = useState('pathogenic');
  const [evidence, setEvidence] = useState('');
  const [version, setVersion] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: { participant_id: string }[] }>('GET', `/api/v1/specimens?holder=${encodeURIComponent(session.organisation)}`)
      .then((r) => setParticipants([...new Set(r.items.map((s) => s.participant_id))]))
      .catch(() => setParticipants([]));
    api<AcmgSf>('GET', '/api/v1/acmg-sf')
      .then((a) => {
        setAcmg(a);
        setVersion(a.active);
      })
      .catch(() => setAcmg(null));
  }, []);
  const genes = acmg?.versions.find((v) => v.version === version)?.genes ?? [];
  return (
    <form
      className="card"
      aria-labelledby="h-file-finding"
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        try {
          const f = await api<Finding>('POST', '/api/v1/findings', {
            participant_id: participant, gene, variant, origin, category, classification, evidence,
            acmg_sf_version: category === 'secondary' ? version : undefined,
          });
          onFiled(f.id);
        } catch (err) {
          setError(errorText(err));
        }
      }}
    >
      <h2 id="h-file-finding">{t('fileFinding')}</h2>
      <label>
        {t('participantId')}
        <input list="finding-participants" value={participant} onChange={(e) => setParticipant(e.target.value)} required />
        <datalist id="finding-participants">
          {participants.map((p) => (
            <option key={p} value={p} />
          ))}
        </datalist>
      </label>
      <div className="filters">
        <label>
          {t('gene')}
          <input list="acmg-genes" value={gene} onChange={(e) => setGene(e.target.value.toUpperCase())} required maxLength={30} />
          {category === 'secondary' && (
            <datalist id="acmg-genes">
              {genes.map((g) => (
                <option key={g} value={g} />
              ))}
            </datalist>
          )}
        </label>
        <label>
          {t('variantHgvs')}
          <input value={variant} onChange={(e) => setVariant(e.target.value)} required placeholder="NM_007294.4:c.68_69del" size={32} />
        </label>
      </div>
      <fieldset className="field">
        <legend>{t('origin')}</legend>
        {['somatic', 'germline'].map((o) => (
          <label key={o} className="radio">
            <input type="radio" name="origin" value={o} checked={origin === o} onChange={() => setOrigin(o)} />
            {t(o === 'somatic' ? 'somatic' : 'germline')}
          </label>
        ))}
      </fieldset>
      <fieldset className="field">
        <legend>{t('findingCategory')}</legend>
        {(['primary', 'secondary', 'reinterpretation'] as const).map((c) => (
          <label key={c} className="radio">
            <input type="radio" name="category" value={c} checked={category === c} onChange={() => setCategory(c)} />
            {t(`cat_${c}`)}
          </label>
        ))}
      </fieldset>
      {category === 'secondary' && (
        <label>
          {t('acmgSfVersion')}
          <select value={version} onChange={(e) => setVersion(e.target.value)}>
            {(acmg?.versions ?? []).map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version} ({v.year}, {v.gene_count} {t('genes')}){v.version === acmg?.active ? ` — ${t('active')}` : ''}
              </option>
            ))}
          </select>
          <span className="field-def">{t('secondaryHelp')}</span>
        </label>
      )}
      <ClassificationFields classification={classification} setClassification={setClassification}
        evidence={evidence} setEvidence={setEvidence} rows={3} />
      <button type="submit" className="primary">
        {t('fileFinding')}
      </button>
      {error && (
        <p role="alert" className="error" data-testid="filing-error">
          {error}
        </p>
      )}
    </form>
  );
}

// ---- steps ---------------------------------------------------------------------------------------

function StepForm({ finding, event, needs, onDone }: { finding: Finding; event: string; needs: string[]; onDone: (f: Finding) => void }) {
  const { t, lang } = useI18n();
  const errorText = useErrorText();
  const [reason, setReason] = useState('');
  const [reasonCode, setReasonCode] = useState('');
  const [decision, setDecision] = useState('');
  const [via, setVia] = useState('participant');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = `step-${event}`;
  return (
    <form
      className="step"
      aria-labelledby={`${id}-button`}
      data-testid={id}
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        setBusy(true);
        const body: Record<string, string> = { event };
        if (needs.includes('reason')) body.reason = reason;
        if (needs.includes('reason_code')) body.reason_code = reasonCode;
        if (needs.includes('decision')) body.decision = decision;
        if (needs.includes('via')) body.via = via;
        try {
          onDone(await api<Finding>('POST', `/api/v1/findings/${finding.id}/transitions`, body));
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      {needs.includes('reason') && (
        <label>
          {t('reason')}
          <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={2000} />
        </label>
      )}
      {needs.includes('reason_code') && (
        <label>
          {t('reasonCode')}
          <select value={reasonCode} onChange={(e) => setReasonCode(e.target.value)} required>
            <option value="">{t('notAnswered')}</option>
            {Object.keys(siteDeclineReasons).map((r) => (
              <option key={r} value={r}>
                {label(siteDeclineReasons, lang, r)}
              </option>
            ))}
          </select>
        </label>
      )}
      {needs.includes('decision') && (
        <fieldset className="field">
          <legend>{t('patientAnswer')}</legend>
          {['want', 'dont_want'].map((d) => (
            <label key={d} className="radio">
              <input type="radio" name={`${id}-decision`} value={d} checked={decision === d} onChange={() => setDecision(d)} required />
              {t(d === 'want' ? 'wantsResult' : 'doesNotWantResult')}
            </label>
          ))}
        </fieldset>
      )}
      {needs.includes('via') && (
        <fieldset className="field">
          <legend>{t('reachedWho')}</legend>
          {['participant', 'designated_relative'].map((v) => (
            <label key={v} className="radio">
              <input type="radio" name={`${id}-via`} value={v} checked={via === v} onChange={() => setVia(v)} />
              {t(v === 'participant' ? 'viaParticipant' : 'viaRelative')}
            </label>
          ))}
        </fieldset>
      )}
      <button type="submit" id={`${id}-button`} className="primary" disabled={busy}>
        {label(findingEvents, lang, event)}
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

function ReclassifyForm({ finding, onDone }: { finding: Finding; onDone: (id: string) => void }) {
  const { t, lang } = useI18n();
  const errorText = useErrorText();
  const [classification, setClassification] = useState(finding.classification);
  const [evidence, setEvidence] = useState('');
  const [error, setError] = useState('');
  return (
    <details className="card">
      <summary>{t('reclassifyTitle')}</summary>
      <form onSubmit={async (e) => {
        e.preventDefault();
        try {
          const f = await api<Finding>('POST', `/api/v1/findings/${finding.id}/reclassify`, { classification, evidence });
          onDone(f.id);
        } catch (err) {
          setError(errorText(err));
        }
      }}>
        <ClassificationFields classification={classification} setClassification={setClassification}
          evidence={evidence} setEvidence={setEvidence} rows={2} />
        <button type="submit">{label(findingEvents, lang, 'reclassify')}</button>
        {error && <p role="alert" className="error">{error}</p>}
      </form>
    </details>
  );
}

// ---- messages -------------------------------------------------------------------------------------

function Messages({ finding, session, onRead }: { finding: Finding; session: SessionInfo; onRead: () => void }) {
  const { t, lang } = useI18n();
  const errorText = useErrorText();
  const [items, setItems] = useState<Message[]>([]);
  const [type, setType] = useState('question');
  const [body, setBody] = useState('');
  const [recipient, setRecipient] = useState('all');
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [fromPatient, setFromPatient] = useState(false);
  const [decision, setDecision] = useState('want');
  const [error, setError] = useState('');
  const hospital = session.roles.includes('clinician');
  const load = async () => {
    const r = await api<{ items: Message[]; unread: number }>('GET', `/api/v1/findings/${finding.id}/messages`);
    setItems(r.items);
    // Opening the thread reads it: the senders see the receipt.
    if (r.unread > 0) {
      await api('POST', `/api/v1/findings/${finding.id}/messages/read`, {});
      const again = await api<{ items: Message[] }>('GET', `/api/v1/findings/${finding.id}/messages`);
      setItems(again.items);
      onRead();
    }
  };
  useEffect(() => {
    load().catch((e) => setError(errorText(e)));
  }, [finding.id]);
  const types = ['question', 'answer', 'status', 'note', 'ack', ...(hospital ? ['preference_change'] : [])];
  const roots = items.filter((m) => m.thread_id === m.id || !m.thread_id);
  const render = (m: Message) => (
    <li key={m.id} className="message" data-testid="message">
      <div className="message-head">
        <strong>{label(messageTypes, lang, m.type)}</strong> · {label(parties, lang, m.party)} · {m.user} ({m.organisation}) →{' '}
        {label(parties, lang, m.recipient)} · <time>{m.created_at}</time>
      </div>
      <p className="message-body">{m.body}</p>
      {m.consent_record_id && (
        <p className="muted">
          {t('consentRecordMade')}: {m.consent_record_id}
        </p>
      )}
      <p className="muted" data-testid="read-receipts">
        {t('readBy')}:{' '}
        {m.read_by.length === 0 ? t('nobodyYet') : m.read_by.map((r) => `${r.user} (${r.organisation}) ${r.read_at.slice(0, 16).replace('T', ' ')}`).join(', ')}
      </p>
      <button type="button" className="small" onClick={() => setReplyTo(m)}>
        {t('reply')}
      </button>
      <ul className="replies">{items.filter((r) => r.thread_id === m.id && r.id !== m.id).map(render)}</ul>
    </li>
  );
  return (
    <section className="card" aria-labelledby="h-messages">
      <h3 id="h-messages">
        {t('messages')} ({items.length})
      </h3>
      <ul className="messages" data-testid="messages">{roots.map(render)}</ul>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError('');
          const payload: Record<string, unknown> = { type, body, recipient };
          if (replyTo) payload.in_reply_to = replyTo.id;
          if (hospital && fromPatient) payload.from_patient = true;
          if (type === 'preference_change') payload.decision = decision;
          try {
            await api('POST', `/api/v1/findings/${finding.id}/messages`, payload);
            setBody('');
            setReplyTo(null);
            await load();
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        <h4>{replyTo ? `${t('reply')}: ${replyTo.body.slice(0, 40)}` : t('newMessage')}</h4>
        {replyTo && (
          <button type="button" className="small" onClick={() => setReplyTo(null)}>
            {t('cancelReply')}
          </button>
        )}
        <div className="filters">
          <label>
            {t('messageType')}
            <select value={type} onChange={(e) => setType(e.target.value)}>
              {types.map((m) => (
                <option key={m} value={m}>
                  {label(messageTypes, lang, m)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('recipient')}
            <select value={recipient} onChange={(e) => setRecipient(e.target.value)}>
              {['all', 'analysis_center', 'data_center', 'hospital'].map((r) => (
                <option key={r} value={r}>
                  {label(parties, lang, r)}
                </option>
              ))}
            </select>
          </label>
        </div>
        {type === 'preference_change' && (
          <fieldset className="field">
            <legend>{t('patientAnswer')}</legend>
            {['want', 'dont_want'].map((d) => (
              <label key={d} className="radio">
                <input type="radio" name="msg-decision" value={d} checked={decision === d} onChange={() => setDecision(d)} />
                {t(d === 'want' ? 'wantsResult' : 'doesNotWantResult')}
              </label>
            ))}
          </fieldset>
        )}
        {hospital && (
          <label className="radio">
            <input type="checkbox" checked={fromPatient} onChange={(e) => setFromPatient(e.target.checked)} />
            {t('fromPatient')}
          </label>
        )}
        <label>
          {t('messageBody')}
          <textarea value={body} onChange={(e) => setBody(e.target.value)} required maxLength={4000} rows={3} cols={60} />
        </label>
        <button type="submit">{t('send')}</button>
        {error && <p role="alert" className="error">{error}</p>}
      </form>
    </section>
  );
}

// ---- one finding ----------------------------------------------------------------------------------

function historyDetails(lang: Lang, d: Record<string, unknown>): string {
  const parts: string[] = [];
  const consent = d.consent as { item?: string; verdict?: string; reason?: string } | undefined;
  if (consent?.verdict) parts.push(`${consent.item ?? ''} ${verdictLabels[consent.verdict]?.[lang] ?? consent.verdict}`);
  for (const k of ['reason_code', 'decision', 'via', 'consent_record_id']) {
    if (typeof d[k] === 'string' && d[k]) parts.push(`${k}: ${d[k]}`);
  }
  return parts.join(' · ');
}

function FindingDetail({ id, session, table, onChanged, onOpen }: {
  id: string; session: SessionInfo; table: Table | null; onChanged: () => void; onOpen: (id: string) => void;
}) {
  const { t, lang } = useI18n();
  const errorText = useErrorText();
  const [f, setF] = useState<Finding | null>(null);
  const [error, setError] = useState('');
  const [report, setReport] = useState<'unknown' | 'available' | 'not_available'>('unknown');
  const [message, setMessage] = useState('');
  const clinician = session.roles.includes('clinician');
  const load = async () => {
    try {
      const x = await api<Finding>('GET', `/api/v1/findings/${id}`);
      setF(x);
      if (clinician) {
        setReport(await api('GET', `/api/v1/findings/${id}/report?lang=${lang}`).then(() => 'available' as const, () => 'not_available' as const));
      }
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    load();
  }, [id]);
  if (error) return <p role="alert">{error}</p>;
  if (!f) return <p aria-busy="true">{t('loading')}</p>;
  const needsOf = (event: string) => table?.transitions.find((r) => r.from === f.state && r.event === event)?.needs ?? [];
  const fact = (k: Parameters<typeof t>[0], v: React.ReactNode, testId?: string) => (
    <div>
      <dt>{t(k)}</dt>
      <dd data-testid={testId}>{v}</dd>
    </div>
  );
  return (
    <div className="finding" data-finding={f.id}>
      <section className="card" aria-labelledby="h-finding">
        <h2 id="h-finding">
          {f.gene} <span className="mono">{f.variant}</span>
        </h2>
        <p>
          {t('state')}: <strong data-testid="finding-state" data-state={f.state}>{label(findingStates, lang, f.state)}</strong>{' '}
          <span className="muted">({t('since')} {f.state_since.slice(0, 10)})</span>
        </p>
        <dl className="facts">
          {fact('findingId', f.id)}
          {fact('participant', f.local_id ? `${f.local_id} (${f.participant_id})` : f.participant_id, 'finding-participant')}
          {fact('hospitalLabel', f.hospital, 'finding-hospital')}
          {fact('analysisCenter', f.analysis_center)}
          {fact('origin', t(f.origin === 'germline' ? 'germline' : 'somatic'))}
          {fact('findingCategory', t(`cat_${f.category}` as Parameters<typeof t>[0]))}
          {fact('classification', label(classifications, lang, f.classification))}
          {f.acmg_sf_version && fact('acmgSfVersion', `v${f.acmg_sf_version}`)}
          {fact('contactAttempts', f.contact_attempts)}
          {fact('filedBy', `${f.filed_by} ${f.filed_at.slice(0, 10)}`)}
        </dl>
        <p>
          {t('evidence')}: {f.evidence}
        </p>
        {f.consent && (
          <p data-testid="finding-consent">
            {t('consentCheck')} ({f.consent.item}): <strong>{verdictLabels[f.consent.verdict]?.[lang] ?? f.consent.verdict}</strong>{' '}
            <span className="muted">{f.consent.reason}</span>
          </p>
        )}
        {(f.supersedes || f.superseded_by) && (
          <p>
            {f.supersedes && (
              <>
                {t('supersedes')}:{' '}
                <button type="button" className="link" onClick={() => onOpen(f.supersedes!)}>
                  {f.supersedes}
                </button>{' '}
              </>
            )}
            {f.superseded_by && (
              <>
                {t('supersededBy')}:{' '}
                <button type="button" className="link" onClick={() => onOpen(f.superseded_by!)}>
                  {f.superseded_by}
                </button>
              </>
            )}
          </p>
        )}
      </section>

      <table data-testid="finding-history">
        <caption>{t('findingHistory')}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('time')}</th>
            <th scope="col">{t('step')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('party')}</th>
            <th scope="col">{t('actor')}</th>
            <th scope="col">{t('reason')}</th>
          </tr>
        </thead>
        <tbody>
          {(f.history ?? []).map((h) => (
            <tr key={h.seq}>
              <td>{h.seq}</td>
              <td>{h.time.replace('T', ' ').slice(0, 19)}</td>
              <td>{label(findingEvents, lang, h.event)}</td>
              <td>
                {h.from ? `${label(findingStates, lang, h.from)} → ` : ''}
                {label(findingStates, lang, h.to)}
              </td>
              <td>{label(parties, lang, h.party)}</td>
              <td>
                {h.user}
                {h.organisation && ` (${h.organisation})`}
              </td>
              <td>
                {h.reason}
                {historyDetails(lang, h.details) && <span className="muted"> {historyDetails(lang, h.details)}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <section className="card" aria-labelledby="h-next">
        <h3 id="h-next">{t('nextSteps')}</h3>
        {f.allowed_events.length === 0 ? (
          <p className="muted" data-testid="no-steps">
            {f.terminal ? t('findingClosed') : t('waitingForOthers')}
          </p>
        ) : (
          <div className="steps">
            {f.allowed_events.map((ev) => (
              <StepForm key={`${f.state}-${ev}`} finding={f} event={ev} needs={needsOf(ev)} onDone={(x) => {
                setMessage(`${t('recorded')}: ${label(findingEvents, lang, ev)}`);
                load();
                onChanged();
                void x;
              }} />
            ))}
          </div>
        )}
        <p role="status">{message}</p>
        {session.roles.includes('analyst') && !f.terminal && <ReclassifyForm finding={f} onDone={(nid) => {
          onChanged();
          onOpen(nid);
        }} />}
        {clinician && (
          <p data-testid="report-links">
            {t('patientReport')}:{' '}
            {report === 'available' ? (
              <>
                <a href={`/api/v1/findings/${f.id}/report?lang=ja`} target="_blank" rel="noopener" data-testid="report-ja">
                  {t('printReportJa')}
                </a>{' '}
                <a href={`/api/v1/findings/${f.id}/report?lang=en`} target="_blank" rel="noopener" data-testid="report-en">
                  {t('printReportEn')}
                </a>
              </>
            ) : (
              <span className="muted">{t('reportFromCounselling')}</span>
            )}
          </p>
        )}
      </section>
      <Messages finding={f} session={session} onRead={onChanged} />
    </div>
  );
}

// ---- the page -----------------------------------------------------------------------------------

// /console/findings[/<id>]: the open finding is part of the URL (deep link, reload, Back).
export function FindingsPage({ session, selectedId = '' }: { session: SessionInfo; selectedId?: string }) {
  const { t, lang } = useI18n();
  const errorText = useErrorText();
  const [items, setItems] = useState<Finding[]>([]);
  const [table, setTable] = useState<Table | null>(null);
  const [state, setState] = useState('');
  const selected = selectedId;
  const setSelected = (id: string) => navigate(consolePath('findings', id));
  const open = items.find((f) => f.id === selected);
  useTitle(open ? `${open.gene} ${open.variant}` : selected, selected ? `${t('navFindings')} | ${t('appName')}` : '');
  const [filing, setFiling] = useState(false);
  const [error, setError] = useState('');
  const [sweep, setSweep] = useState('');
  const analyst = session.roles.includes('analyst');
  const steward = session.roles.includes('data_steward');
  const load = () =>
    api<{ items: Finding[] }>('GET', `/api/v1/findings${state ? `?state=${state}` : ''}`)
      .then((r) => setItems(r.items))
      .catch((e) => setError(errorText(e)));
  useEffect(() => {
    load();
  }, [state]);
  useEffect(() => {
    api<Table>('GET', '/api/v1/findings-table').then(setTable).catch(() => setTable(null));
  }, []);
  return (
    <div className="picker">
      <section className="card list" aria-labelledby="h-findings">
        <h2 id="h-findings">
          {t('findings')} ({items.length})
        </h2>
        {analyst && (
          <button type="button" className="primary" onClick={() => {
            setFiling(true);
            setSelected('');
          }}>
            {t('fileFinding')}
          </button>
        )}
        {steward && (
          <div className="actions">
            <button type="button" onClick={async () => {
              try {
                const r = await api<{ checked: number; escalated: number; unreachable: number; consent_moves: number }>('POST', '/api/v1/findings-escalations');
                setSweep(t('sweepDone', { checked: r.checked, escalated: r.escalated, unreachable: r.unreachable, moves: r.consent_moves }));
                load();
              } catch (e) {
                setSweep(errorText(e));
              }
            }}>
              {t('runSweep')}
            </button>
            <span role="status">{sweep}</span>
          </div>
        )}
        <label>
          {t('state')}
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">{t('allStates')}</option>
            {Object.keys(findingStates).map((s) => (
              <option key={s} value={s}>
                {label(findingStates, lang, s)}
              </option>
            ))}
          </select>
        </label>
        {error && <p role="alert">{error}</p>}
        <ul className="plist" data-testid="finding-list">
          {items.map((f) => (
            <li key={f.id}>
              <button type="button" aria-pressed={selected === f.id} data-finding={f.id} data-gene={f.gene} data-participant={f.participant_id} onClick={() => {
                setFiling(false);
                setSelected(f.id);
              }}>
                <span className="pid">
                  {f.gene} {f.variant}
                </span>
                <span className="muted">
                  {label(findingStates, lang, f.state)} · {t(`cat_${f.category}` as Parameters<typeof t>[0])} · {f.participant_id}
                  {f.allowed_events.length > 0 && ` · ${t('yourTurn')}`}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="detail" aria-label={t('finding')}>
        {filing && <FilingForm session={session} onFiled={(id) => {
          setFiling(false);
          load();
          setSelected(id);
        }} />}
        {selected && <FindingDetail key={selected} id={selected} session={session} table={table} onChanged={load} onOpen={setSelected} />}
      </section>
    </div>
  );
}
