// Consent entry, modification and withdrawal; specimen registration, custody and the incoming
// shipments of a facility. Every code the server sends (states, classes, kinds) and every error
// is shown in words (codes.ts).
import { useEffect, useState } from 'react';
import { api, ApiError, type SessionInfo } from '../api';
import { useI18n, type TextKey } from '../i18n';
import {
  codeLabel, consentMethods, consentStates, describeError, errorMessage, fieldLabel, itemClasses, preservations,
  relationships, signers, specimenStates, specimenTypes, tumourNormal,
} from '../codes';
import { consolePath, linkClick, navigate, useTitle } from '../router';
import type { ParticipantRow } from './Console';

interface ConsentRecord {
  id: string;
  seq: number;
  kind: string;
  state: string;
  withdrawal_level: string;
  icf_version: string;
  language: string;
  decisions: Record<string, string>;
  details?: Record<string, any>;
  signed_date: string;
  recorded_by: string;
}
interface IcfItem {
  code: string;
  class: string;
  label: { ja: string; en: string };
}
interface IcfVersionRow {
  program: string;
  version: string;
  language: string;
  effective_date: string;
}

const today = () => new Date().toISOString().slice(0, 10);

function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

function FieldError({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <span className="field-error" id={`${id}-err`} role="alert" data-testid={`error-${id}`}>
      {text}
    </span>
  );
}

export function ConsentPage({ participant }: { participant: ParticipantRow }) {
  const { t, pick, lang } = useI18n();
  const [state, setState] = useState<{ state: string; current: ConsentRecord | null; history: ConsentRecord[] } | null>(null);
  const [versions, setVersions] = useState<IcfVersionRow[]>([]);
  const [version, setVersion] = useState('');
  const [items, setItems] = useState<IcfItem[]>([]);
  const [decisions, setDecisions] = useState<Record<string, string>>({});
  const [signed, setSigned] = useState(today());
  const [signer, setSigner] = useState('self');
  const [repName, setRepName] = useState('');
  const [repRelationship, setRepRelationship] = useState('');
  const [method, setMethod] = useState('');
  const [relName, setRelName] = useState('');
  const [relContact, setRelContact] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [level, setLevel] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState('');
  const load = async () => {
    const s = await api<any>('GET', `/api/v1/participants/${participant.id}/consents`);
    setState(s);
    const cur: ConsentRecord | null = s.current;
    setDecisions(cur?.decisions ?? {});
    if (cur) {
      setVersion((v) => v || cur.icf_version);
      const d = cur.details ?? {};
      setSigner(d.signer ?? 'self');
      setMethod(d.method ?? '');
      setRepName(d.representative?.name ?? '');
      setRepRelationship(d.representative?.relationship ?? '');
      setRelName(d.designated_relative?.name ?? '');
      setRelContact(d.designated_relative?.contact ?? '');
    }
  };
  useEffect(() => {
    load();
    api<{ items: IcfVersionRow[] }>('GET', '/api/v1/icf')
      .then((r) => {
        const mine = r.items.filter((v) => v.program === participant.program);
        setVersions(mine);
        setVersion((v) => {
          if (v) return v;
          const vs = [...new Set(mine.map((x) => x.version))];
          return vs.sort((a, b) => (versionLess(a, b) ? 1 : -1))[0] ?? '';
        });
      })
      .catch(() => setVersions([]));
  }, [participant.id]);
  const versionList = [...new Set(versions.map((v) => v.version))];
  const icfLang = versions.some((v) => v.version === version && v.language === lang) ? lang : versions.find((v) => v.version === version)?.language ?? lang;
  useEffect(() => {
    if (!version) return;
    let current = true; // an answer for an earlier version or language is dropped
    api<{ items: IcfItem[] }>('GET', `/api/v1/icf/${participant.program}/${version}/${icfLang}`)
      .then((r) => current && setItems(r.items))
      .catch(() => current && setItems([]));
    return () => {
      current = false;
    };
  }, [participant.id, version, icfLang]);

  const current = state?.current ?? null;
  const kind = !current ? 'initial' : current.kind === 'withdrawal' || versionLess(current.icf_version, version) ? 'reconsent' : 'modification';
  const proxy = signer !== 'self';
  const relativeWanted = decisions.C11 === 'permit';

  // Every problem at once, each next to its item; the server checks again.
  const validate = (): Record<string, string> => {
    const e: Record<string, string> = {};
    if (!version) e.icf_version = errorMessage(lang, 'missing_field', 'icf_version');
    for (const it of items) {
      const d = decisions[it.code];
      if (!d) e[`decisions.${it.code}`] = errorMessage(lang, 'missing_decision');
      else if (it.class === 'MANDATORY' && d !== 'permit') e[`decisions.${it.code}`] = errorMessage(lang, 'mandatory_item_denied');
    }
    if (!signed) e.signed_date = errorMessage(lang, 'missing_field', 'signed_date');
    else if (signed > today()) e.signed_date = errorMessage(lang, 'date_in_future', 'signed_date');
    if (!method) e['details.method'] = errorMessage(lang, 'invalid_method');
    if (proxy && !repName.trim()) e['details.representative.name'] = errorMessage(lang, 'missing_field', 'details.representative.name');
    if (proxy && !repRelationship) e['details.representative.relationship'] = errorMessage(lang, 'invalid_relationship');
    if (relativeWanted && !relName.trim()) e['details.designated_relative.name'] = errorMessage(lang, 'missing_field', 'details.designated_relative.name');
    if (relativeWanted && !relContact.trim()) e['details.designated_relative.contact'] = errorMessage(lang, 'missing_field', 'details.designated_relative.contact');
    return e;
  };

  const submit = async () => {
    setMessage('');
    const e = validate();
    setErrors(e);
    if (Object.keys(e).length) {
      const first = Object.keys(e)[0];
      document.querySelector<HTMLElement>(`[data-field="${first}"]`)?.focus();
      return;
    }
    const details: Record<string, unknown> = { signer, method };
    if (proxy) details.representative = { name: repName.trim(), relationship: repRelationship };
    if (relativeWanted) details.designated_relative = { name: relName.trim(), contact: relContact.trim() };
    try {
      await api('POST', `/api/v1/participants/${participant.id}/consents`, {
        kind, icf_version: version, language: icfLang, decisions, signed_date: signed, details,
      });
      setMessage(t('recorded'));
      await load();
    } catch (err) {
      const ae = err as ApiError;
      if (ae.field) setErrors({ [ae.field]: describeError(lang, err) });
      else setMessage(describeError(lang, err));
    }
  };

  const withdraw = async () => {
    setMessage('');
    try {
      await api('POST', `/api/v1/participants/${participant.id}/withdrawal`, { level, signed_date: signed, reason });
      setConfirming(false);
      setLevel('');
      setReason('');
      setMessage(t('recorded'));
      await load();
    } catch (err) {
      setConfirming(false);
      setMessage(describeError(lang, err));
    }
  };

  const levels = ['no_contact', 'no_new_data', 'full'];
  const inForce = current?.withdrawal_level ?? '';
  const withdrawable = state && state.state !== 'none' && state.state !== 'withdrawn_full'
    ? levels.filter((l) => levels.indexOf(l) > levels.indexOf(inForce)) : [];
  const canRecord = state && state.state !== 'withdrawn_full';
  const errorCount = Object.keys(errors).length;
  const described = (f: string) => (errors[f] ? `${f}-err` : undefined);

  return (
    <div className="consent">
      <p>
        {t('consentState')}: <strong data-testid="consent-state" data-state={state?.state ?? ''}>{state ? codeLabel(consentStates, lang, state.state) : '—'}</strong>
      </p>
      {canRecord && (
        <form className="card" aria-labelledby="h-record-consent" noValidate onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}>
          <h3 id="h-record-consent">
            {t('recordConsent')} ({t(`kind_${kind}` as TextKey)})
          </h3>
          {errorCount > 0 && (
            <p role="alert" className="problems" data-testid="consent-errors">{t('consentErrors', { n: errorCount })}</p>
          )}
          <div className="field">
            <label htmlFor="icf-version" className="field-label">{t('icfVersion')}</label>
            <span className="field-def">{t('icfVersionHelp')}</span>
            <select id="icf-version" data-field="icf_version" value={version} aria-invalid={!!errors.icf_version} aria-describedby={described('icf_version')} onChange={(e) => setVersion(e.target.value)}>
              {versionList.map((v) => (
                <option key={v} value={v}>{v}</option>
              ))}
            </select>
            <FieldError id="icf_version" text={errors.icf_version} />
          </div>
          <div className="actions">
            <button type="button" onClick={() => {
              const d = { ...decisions };
              for (const it of items) if (it.class === 'MANDATORY') d[it.code] = 'permit';
              setDecisions(d);
            }}>
              {t('permitMandatory')}
            </button>
          </div>
          {items.map((it) => {
            const f = `decisions.${it.code}`;
            return (
              <fieldset key={it.code} className="field" data-field={f} tabIndex={-1} aria-describedby={described(f)} aria-invalid={!!errors[f]}>
                <legend>
                  {it.code} {pick(it.label)} <span className="muted">({codeLabel(itemClasses, lang, it.class)})</span>
                </legend>
                <div className="radios">
                  {['permit', 'deny', 'undecided'].map((d) => (
                    <label key={d} className="radio">
                      <input type="radio" name={`c-${it.code}`} value={d} checked={decisions[it.code] === d} onChange={() => setDecisions({ ...decisions, [it.code]: d })} />
                      {t(d as TextKey)}
                    </label>
                  ))}
                </div>
                <FieldError id={f} text={errors[f]} />
              </fieldset>
            );
          })}
          {relativeWanted && (
            <fieldset className="field">
              <legend>{t('designatedRelative')}</legend>
              <span className="field-def">{t('relativeHelp')}</span>
              <label>
                {t('relativeName')}
                <input data-field="details.designated_relative.name" value={relName} aria-invalid={!!errors['details.designated_relative.name']} aria-describedby={described('details.designated_relative.name')} onChange={(e) => setRelName(e.target.value)} />
              </label>
              <FieldError id="details.designated_relative.name" text={errors['details.designated_relative.name']} />
              <label>
                {t('relativeContact')}
                <input data-field="details.designated_relative.contact" value={relContact} aria-invalid={!!errors['details.designated_relative.contact']} aria-describedby={described('details.designated_relative.contact')} onChange={(e) => setRelContact(e.target.value)} />
              </label>
              <FieldError id="details.designated_relative.contact" text={errors['details.designated_relative.contact']} />
              <FieldError id="details.designated_relative" text={errors['details.designated_relative']} />
            </fieldset>
          )}
          <fieldset className="field" data-field="details.signer" tabIndex={-1}>
            <legend>{t('signer')}</legend>
            <div className="radios">
              {Object.keys(signers).map((s) => (
                <label key={s} className="radio">
                  <input type="radio" name="signer" value={s} checked={signer === s} onChange={() => setSigner(s)} />
                  {codeLabel(signers, lang, s)}
                </label>
              ))}
            </div>
            <FieldError id="details.signer" text={errors['details.signer']} />
          </fieldset>
          {proxy && (
            <fieldset className="field">
              <legend>{codeLabel(signers, lang, 'legal_representative')}</legend>
              <label>
                {t('representativeName')}
                <input data-field="details.representative.name" value={repName} aria-invalid={!!errors['details.representative.name']} aria-describedby={described('details.representative.name')} onChange={(e) => setRepName(e.target.value)} />
              </label>
              <FieldError id="details.representative.name" text={errors['details.representative.name']} />
              <label>
                {t('relationship')}
                <select data-field="details.representative.relationship" value={repRelationship} aria-invalid={!!errors['details.representative.relationship']} aria-describedby={described('details.representative.relationship')} onChange={(e) => setRepRelationship(e.target.value)}>
                  <option value="">{t('notAnswered')}</option>
                  {Object.keys(relationships).map((r) => (
                    <option key={r} value={r}>{codeLabel(relationships, lang, r)}</option>
                  ))}
                </select>
              </label>
              <FieldError id="details.representative.relationship" text={errors['details.representative.relationship']} />
              <FieldError id="details.representative" text={errors['details.representative']} />
            </fieldset>
          )}
          <fieldset className="field" data-field="details.method" tabIndex={-1} aria-invalid={!!errors['details.method']} aria-describedby={described('details.method')}>
            <legend>{t('consentMethod')}</legend>
            <div className="radios">
              {Object.keys(consentMethods).map((m) => (
                <label key={m} className="radio">
                  <input type="radio" name="method" value={m} checked={method === m} onChange={() => setMethod(m)} />
                  {codeLabel(consentMethods, lang, m)}
                </label>
              ))}
            </div>
            <FieldError id="details.method" text={errors['details.method']} />
          </fieldset>
          <div className="field">
            <label htmlFor="consent-signed" className="field-label">{t('signedDate')}</label>
            <input id="consent-signed" data-field="signed_date" type="date" max={today()} value={signed} aria-invalid={!!errors.signed_date} aria-describedby={described('signed_date')} onChange={(e) => setSigned(e.target.value)} />
            <FieldError id="signed_date" text={errors.signed_date} />
          </div>
          {Object.entries(errors).filter(([f]) => !document.querySelector(`[data-field="${f}"]`) && !f.startsWith('details.')).map(([f, m]) => (
            <p key={f} className="field-error" role="alert">{fieldLabel(lang, f)}: {m}</p>
          ))}
          <button type="submit" className="primary">{t('recordConsent')}</button>
        </form>
      )}
      {withdrawable.length > 0 ? (
        <form className="card" aria-labelledby="h-withdraw" onSubmit={(e) => {
          e.preventDefault();
          if (level) setConfirming(true);
        }}>
          <h3 id="h-withdraw">{t('withdraw')}</h3>
          <fieldset className="field">
            <legend>{t('withdrawLevel')}</legend>
            <div className="radios">
              {withdrawable.map((l) => (
                <label key={l} className="radio">
                  <input type="radio" name="withdraw-level" value={l} checked={level === l} onChange={() => {
                    setLevel(l);
                    setConfirming(false);
                  }} />
                  {t(`level_${l}` as TextKey)}
                </label>
              ))}
            </div>
          </fieldset>
          <label>
            {t('reason')}
            <input value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          {!confirming && (
            <button type="submit" disabled={!level}>{t('withdraw')}…</button>
          )}
          {confirming && (
            <div role="alertdialog" aria-labelledby="h-withdraw-confirm" aria-describedby="withdraw-consequence" className="confirm" data-testid="withdraw-confirm">
              <h4 id="h-withdraw-confirm">{t('withdrawConfirmTitle')}: {t(`level_${level}` as TextKey)}</h4>
              <p id="withdraw-consequence">{t(`withdrawConsequence_${level}` as TextKey)}</p>
              <button type="button" className="danger" onClick={withdraw}>{t('withdrawConfirm')}</button>
              <button type="button" onClick={() => setConfirming(false)}>{t('cancel')}</button>
            </div>
          )}
        </form>
      ) : (
        state && <p className="muted" data-testid="no-withdrawal">{t('noConsentToWithdraw')}</p>
      )}
      <p role="status" data-testid="consent-status">{message}</p>
      <table>
        <caption>{t('consentHistory')}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('kind')}</th>
            <th scope="col">{t('signedDate')}</th>
            <th scope="col">{t('icfVersion')}</th>
            <th scope="col">{t('signer')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('changedBy')}</th>
          </tr>
        </thead>
        <tbody>
          {(state?.history ?? []).map((r) => (
            <tr key={r.id}>
              <td>{r.seq}</td>
              <td>
                {t(`kind_${r.kind}` as TextKey)}
                {r.withdrawal_level && ` (${t(`level_${r.withdrawal_level}` as TextKey)})`}
              </td>
              <td>{r.signed_date}</td>
              <td>{r.icf_version}</td>
              <td>
                {r.details?.signer ? codeLabel(signers, lang, r.details.signer) : '—'}
                {r.details?.representative?.relationship && ` (${codeLabel(relationships, lang, r.details.representative.relationship)})`}
              </td>
              <td>{codeLabel(consentStates, lang, r.state)}</td>
              <td>{r.recorded_by}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Specimen {
  id: string;
  participant_id: string;
  hospital?: string;
  tumour_normal: string;
  specimen_type: string;
  preservation?: string;
  collection_date?: string;
  state: string;
  holder: string;
  destination?: string | null;
  allowed_next: string[];
  history?: { seq: number; from: string; to: string; organisation: string; user: string; time: string; note: string; destination?: string | null }[];
}

interface Org {
  id: string;
  name?: string;
  kind?: string;
}

// The destinations a specimen may be shipped to: the registered sequencing facilities, or
// null when the server does not list organisations (then the destination is typed).
function useFacilities(): Org[] | null {
  const [orgs, setOrgs] = useState<Org[] | null>(null);
  useEffect(() => {
    api<{ items: Org[] }>('GET', '/api/v1/organisations?kind=sequencing_facility')
      .then((r) => setOrgs(r.items))
      .catch(() => setOrgs(null));
  }, []);
  return orgs;
}

function SpecimenDetail({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const [s, setS] = useState<Specimen | null>(null);
  const [loadError, setLoadError] = useState('');
  const [to, setTo] = useState('');
  const [note, setNote] = useState('');
  const [destination, setDestination] = useState('');
  const [message, setMessage] = useState('');
  const facilities = useFacilities();
  useTitle(`${t('specimenId')} ${id}`, `${t('navSpecimens')} | ${t('appName')}`);
  const load = () => api<Specimen>('GET', `/api/v1/specimens/${encodeURIComponent(id)}`).then((x) => {
    setS(x);
    setTo(x.allowed_next[0] ?? '');
  }).catch((e) => setLoadError(describeError(lang, e)));
  useEffect(() => {
    load();
  }, [id]);
  if (loadError) return <p role="alert">{loadError}</p>;
  if (!s) return <p aria-busy="true">{t('loading')}</p>;
  return (
    <div className="card specimen-detail" data-testid="specimen-detail">
      <h2 data-testid="specimen-title">
        {s.id} · <span data-testid="specimen-state" data-state={s.state}>{codeLabel(specimenStates, lang, s.state)}</span>
      </h2>
      <dl className="meta">
        <dt>{t('participant')}</dt>
        <dd>{s.participant_id}</dd>
        <dt>{t('tumourOrNormal')}</dt>
        <dd>{codeLabel(tumourNormal, lang, s.tumour_normal)}</dd>
        <dt>{t('specimenType')}</dt>
        <dd>{codeLabel(specimenTypes, lang, s.specimen_type)}</dd>
        {s.preservation && (
          <>
            <dt>{t('preservation')}</dt>
            <dd>{codeLabel(preservations, lang, s.preservation)}</dd>
          </>
        )}
        {s.collection_date && (
          <>
            <dt>{t('collectionDate')}</dt>
            <dd>{s.collection_date}</dd>
          </>
        )}
        <dt>{t('holder')}</dt>
        <dd>{s.holder}</dd>
      </dl>
      {s.allowed_next.length > 0 && (
        <form onSubmit={async (e) => {
          e.preventDefault();
          try {
            await api('POST', `/api/v1/specimens/${encodeURIComponent(id)}/custody`, { to, note, destination: to === 'shipped' ? destination || undefined : undefined });
            setMessage(t('recorded'));
            await load();
            onChanged();
          } catch (err) {
            setMessage(`${t('error')}: ${describeError(lang, err)}`);
          }
        }}>
          <label>
            {t('moveTo')}
            <select value={to} onChange={(e) => setTo(e.target.value)}>
              {s.allowed_next.map((n) => (
                <option key={n} value={n}>
                  {codeLabel(specimenStates, lang, n)}
                </option>
              ))}
            </select>
          </label>
          {to === 'shipped' && (
            facilities && facilities.length > 0 ? (
              <label>
                {t('destination')}
                <select value={destination} onChange={(e) => setDestination(e.target.value)}>
                  <option value="">{t('notAnswered')}</option>
                  {facilities.map((o) => (
                    <option key={o.id} value={o.id}>{o.name ? `${o.name} (${o.id})` : o.id}</option>
                  ))}
                </select>
              </label>
            ) : (
              <label>
                {t('destination')}
                <input value={destination} onChange={(e) => setDestination(e.target.value)} />
              </label>
            )
          )}
          <label>
            {t('note')}
            <input value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          <button type="submit">{t('record')}</button>
        </form>
      )}
      <p role="status" data-testid="custody-status">{message}</p>
      <h3>{t('custodyHistory')}</h3>
      <ol className="timeline" aria-label={t('custodyHistory')}>
        {(s.history ?? []).map((h) => (
          <li key={h.seq}>
            <time>{h.time}</time> {h.from ? codeLabel(specimenStates, lang, h.from) : '—'} → <strong>{codeLabel(specimenStates, lang, h.to)}</strong> · {h.organisation} · {h.user}
            {h.destination ? ` → ${h.destination}` : ''} {h.note}
          </li>
        ))}
      </ol>
    </div>
  );
}

function SpecimenTable({ items, caption }: { items: Specimen[]; caption?: string }) {
  const { t, lang } = useI18n();
  if (items.length === 0) return <p>{t('noSpecimens')}</p>;
  return (
    <table data-testid="specimen-table">
      <caption>{caption ?? t('specimens')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('specimenId')}</th>
          <th scope="col">{t('participant')}</th>
          <th scope="col">{t('kind')}</th>
          <th scope="col">{t('state')}</th>
          <th scope="col">{t('holder')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((s) => (
          <tr key={s.id} data-specimen={s.id}>
            <td>
              <a href={consolePath('specimens', s.id)} onClick={linkClick(consolePath('specimens', s.id))}>
                {s.id}
              </a>
            </td>
            <td>{s.participant_id}</td>
            <td>
              {codeLabel(tumourNormal, lang, s.tumour_normal)} / {codeLabel(specimenTypes, lang, s.specimen_type)}
            </td>
            <td>{codeLabel(specimenStates, lang, s.state)}</td>
            <td>{s.holder}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// /console/specimens: the specimens the user's organisation holds; /console/specimens/<id>: one
// specimen, in its own view.
export function SpecimensPage({ session, selectedId }: { session: SessionInfo; selectedId?: string }) {
  const { t } = useI18n();
  const [items, setItems] = useState<Specimen[]>([]);
  useTitle(t('navSpecimens'), selectedId ? '' : t('appName'));
  const load = () =>
    api<{ items: Specimen[] }>('GET', `/api/v1/specimens?holder=${encodeURIComponent(session.organisation)}`)
      .then((r) => setItems(r.items))
      .catch(() => setItems([]));
  useEffect(() => {
    if (!selectedId) load();
  }, [selectedId]);
  if (selectedId) {
    return (
      <div className="specimens">
        <a href={consolePath('specimens')} onClick={linkClick(consolePath('specimens'))}>← {t('navSpecimens')}</a>
        <SpecimenDetail key={selectedId} id={selectedId} onChanged={() => undefined} />
      </div>
    );
  }
  return (
    <div className="specimens">
      <SpecimenTable items={items} />
    </div>
  );
}

// A participant's specimens and, for the hospital's clinicians, the registration form.
export function ParticipantSpecimens({ participant, canWrite }: { participant: ParticipantRow; canWrite: boolean }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<Specimen[]>([]);
  const [tn, setTn] = useState('');
  const [type, setType] = useState('');
  const [preservation, setPreservation] = useState('');
  const [date, setDate] = useState(today());
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const load = () =>
    api<{ items: Specimen[] }>('GET', `/api/v1/participants/${participant.id}/specimens`)
      .then((r) => setItems(r.items))
      .catch(() => setItems([]));
  useEffect(() => {
    load();
  }, [participant.id]);
  const submit = async () => {
    const e: Record<string, string> = {};
    if (!tn) e.tumour_normal = errorMessage(lang, 'missing_field', 'tumour_normal');
    if (!type) e.specimen_type = errorMessage(lang, 'missing_field', 'specimen_type');
    if (!preservation) e.preservation = errorMessage(lang, 'missing_field', 'preservation');
    if (!date) e.collection_date = errorMessage(lang, 'missing_field', 'collection_date');
    else if (date > today()) e.collection_date = errorMessage(lang, 'date_in_future', 'collection_date');
    setErrors(e);
    setMessage('');
    if (Object.keys(e).length) return;
    try {
      const s = await api<Specimen>('POST', `/api/v1/participants/${participant.id}/specimens`, {
        tumour_normal: tn, specimen_type: type, preservation, collection_date: date, note: note || undefined,
      });
      setMessage(`${t('specimenRegistered')}: ${s.id}`);
      setTn('');
      setType('');
      setPreservation('');
      setNote('');
      await load();
    } catch (err) {
      const ae = err as ApiError;
      if (ae.field) setErrors({ [ae.field]: describeError(lang, err) });
      else setMessage(describeError(lang, err));
    }
  };
  const select = (id: string, label: string, value: string, set: (v: string) => void, options: Record<string, { ja: string; en: string }>) => (
    <div className="field">
      <label htmlFor={`sp-${id}`} className="field-label">{label} <span className="req">({t('required')})</span></label>
      <select id={`sp-${id}`} value={value} aria-invalid={!!errors[id]} aria-describedby={errors[id] ? `${id}-err` : undefined} onChange={(e) => set(e.target.value)}>
        <option value="">{t('notAnswered')}</option>
        {Object.keys(options).map((o) => (
          <option key={o} value={o}>{codeLabel(options, lang, o)}</option>
        ))}
      </select>
      <FieldError id={id} text={errors[id]} />
    </div>
  );
  return (
    <div className="participant-specimens">
      <SpecimenTable items={items} />
      {canWrite && (
        <form className="card" aria-labelledby="h-register-specimen" noValidate onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}>
          <h3 id="h-register-specimen">{t('registerSpecimen')}</h3>
          <fieldset className="field">
            <legend>{t('tumourOrNormal')} <span className="req">({t('required')})</span></legend>
            <div className="radios">
              {Object.keys(tumourNormal).map((x) => (
                <label key={x} className="radio">
                  <input type="radio" name="tumour_normal" value={x} checked={tn === x} onChange={() => setTn(x)} />
                  {codeLabel(tumourNormal, lang, x)}
                </label>
              ))}
            </div>
            <FieldError id="tumour_normal" text={errors.tumour_normal} />
          </fieldset>
          {select('specimen_type', t('specimenType'), type, setType, specimenTypes)}
          {select('preservation', t('preservation'), preservation, setPreservation, preservations)}
          <div className="field">
            <label htmlFor="sp-collection_date" className="field-label">{t('collectionDate')} <span className="req">({t('required')})</span></label>
            <input id="sp-collection_date" type="date" max={today()} value={date} aria-invalid={!!errors.collection_date} aria-describedby={errors.collection_date ? 'collection_date-err' : undefined} onChange={(e) => setDate(e.target.value)} />
            <FieldError id="collection_date" text={errors.collection_date} />
          </div>
          <div className="field">
            <label htmlFor="sp-note" className="field-label">{t('note')}</label>
            <input id="sp-note" value={note} onChange={(e) => setNote(e.target.value)} />
          </div>
          <button type="submit" className="primary">{t('registerSpecimen')}</button>
          <span role="status" data-testid="specimen-status">{message}</span>
        </form>
      )}
    </div>
  );
}

// The specimens shipped to the user's facility and not yet received: receive, or reject with
// a reason. The list comes from GET /api/v1/shipments/incoming.
export function IncomingPage({ session }: { session: SessionInfo }) {
  const { t, lang } = useI18n();
  useTitle(t('navIncoming'), t('appName'));
  const [items, setItems] = useState<Specimen[] | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const load = () =>
    api<{ items: Specimen[] }>('GET', '/api/v1/shipments/incoming')
      .then((r) => setItems(r.items))
      .catch((e: ApiError) => {
        if (e.status === 404) setUnavailable(true);
        else setMessage(describeError(lang, e));
        setItems([]);
      });
  useEffect(() => {
    load();
  }, [session.organisation]);
  const step = async (s: Specimen, to: 'received' | 'rejected') => {
    setMessage('');
    if (to === 'rejected' && !reasons[s.id]?.trim()) {
      setErrors({ ...errors, [s.id]: errorMessage(lang, 'reason_required') });
      return;
    }
    setErrors({ ...errors, [s.id]: '' });
    try {
      await api('POST', `/api/v1/specimens/${encodeURIComponent(s.id)}/custody`, to === 'received' ? { to } : { to, note: reasons[s.id].trim() });
      setMessage(`${s.id}: ${codeLabel(specimenStates, lang, to)}`);
      await load();
    } catch (err) {
      setErrors({ ...errors, [s.id]: describeError(lang, err) });
    }
  };
  return (
    <div className="incoming">
      <h2>{t('incomingTitle')}</h2>
      {unavailable && <p role="status" data-testid="incoming-unavailable">{t('incomingUnavailable')}</p>}
      {items && items.length === 0 && !unavailable && <p>{t('noIncoming')}</p>}
      {items && items.length > 0 && (
        <table data-testid="incoming-table">
          <caption>{t('incomingTitle')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('specimenId')}</th>
              <th scope="col">{t('shippedFrom')}</th>
              <th scope="col">{t('kind')}</th>
              <th scope="col">{t('collected')}</th>
              <th scope="col">{t('action')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-specimen={s.id}>
                <td>{s.id}</td>
                <td>{s.holder}</td>
                <td>{codeLabel(tumourNormal, lang, s.tumour_normal)} / {codeLabel(specimenTypes, lang, s.specimen_type)}</td>
                <td>{s.collection_date ?? '—'}</td>
                <td>
                  <button type="button" className="primary" onClick={() => step(s, 'received')}>{t('receive')}</button>
                  <label>
                    {t('rejectReason')}
                    <input value={reasons[s.id] ?? ''} aria-invalid={!!errors[s.id]} onChange={(e) => setReasons({ ...reasons, [s.id]: e.target.value })} />
                  </label>
                  <button type="button" onClick={() => step(s, 'rejected')}>{t('reject')}</button>
                  {errors[s.id] && <span className="field-error" role="alert">{errors[s.id]}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p role="status" data-testid="incoming-status">{message}</p>
      {unavailable && (
        <p>
          <a href={consolePath('specimens')} onClick={(e) => {
            e.preventDefault();
            navigate(consolePath('specimens'));
          }}>{t('navSpecimens')}</a>
        </p>
      )}
    </div>
  );
}
