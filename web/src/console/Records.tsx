// Consent entry, modification and withdrawal; specimen custody.
import { useEffect, useState } from 'react';
import { api, ApiError, type SessionInfo } from '../api';
import { useI18n, type TextKey } from '../i18n';
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
  signed_date: string;
  recorded_by: string;
}
interface IcfItem {
  code: string;
  class: string;
  label: { ja: string; en: string };
}

const today = () => new Date().toISOString().slice(0, 10);

export function ConsentPage({ participant }: { participant: ParticipantRow }) {
  const { t, pick, lang } = useI18n();
  const [state, setState] = useState<{ state: string; current: ConsentRecord | null; history: ConsentRecord[] } | null>(null);
  const [items, setItems] = useState<IcfItem[]>([]);
  const [decisions, setDecisions] = useState<Record<string, string>>({});
  const [signed, setSigned] = useState(today());
  const [level, setLevel] = useState('no_contact');
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState('');
  const load = async () => {
    const s = await api<any>('GET', `/api/v1/participants/${participant.id}/consents`);
    setState(s);
    setDecisions(s.current?.decisions ?? {});
  };
  useEffect(() => {
    load();
    api<{ items: IcfItem[] }>('GET', `/api/v1/icf/${participant.program}/1.0/${lang}`)
      .then((r) => setItems(r.items))
      .catch(() => setItems([]));
  }, [participant.id, lang]);
  const act = async (f: () => Promise<unknown>) => {
    setMessage('');
    try {
      await f();
      setMessage(t('recorded'));
      await load();
    } catch (e) {
      setMessage(`${t('error')}: ${(e as ApiError).message}`);
    }
  };
  const kind = !state?.current ? 'initial' : state.current.kind === 'withdrawal' ? 'reconsent' : 'modification';
  return (
    <div className="consent">
      <p>
        {t('consentState')}: <strong data-testid="consent-state">{state?.state ?? '—'}</strong>
      </p>
      <form className="card" onSubmit={(e) => {
        e.preventDefault();
        act(() => api('POST', `/api/v1/participants/${participant.id}/consents`, {
          kind, icf_version: '1.0', language: lang, decisions, signed_date: signed,
          details: { signer: 'self', method: 'electronic' },
        }));
      }}>
        <h3>
          {t('recordConsent')} ({t(`kind_${kind}` as TextKey)})
        </h3>
        {items.map((it) => (
          <fieldset key={it.code} className="field">
            <legend>
              {it.code} {pick(it.label)} <span className="muted">({it.class})</span>
            </legend>
            <div className="radios">
              {['permit', 'deny', 'undecided'].map((d) => (
                <label key={d} className="radio">
                  <input type="radio" name={`c-${it.code}`} value={d} checked={decisions[it.code] === d} onChange={() => setDecisions({ ...decisions, [it.code]: d })} />
                  {t(d as TextKey)}
                </label>
              ))}
            </div>
          </fieldset>
        ))}
        <label>
          {t('signedDate')}
          <input type="date" value={signed} onChange={(e) => setSigned(e.target.value)} />
        </label>
        <button type="submit">{t('recordConsent')}</button>
      </form>
      <form className="card" onSubmit={(e) => {
        e.preventDefault();
        act(() => api('POST', `/api/v1/participants/${participant.id}/withdrawal`, { level, signed_date: signed, reason }));
      }}>
        <h3>{t('withdraw')}</h3>
        <label>
          {t('withdrawLevel')}
          <select value={level} onChange={(e) => setLevel(e.target.value)}>
            {['no_contact', 'no_new_data', 'full'].map((l) => (
              <option key={l} value={l}>
                {t(`level_${l}` as TextKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('reason')}
          <input value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button type="submit">{t('withdraw')}</button>
      </form>
      <p role="status">{message}</p>
      <table>
        <caption>{t('consentHistory')}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('kind')}</th>
            <th scope="col">{t('signedDate')}</th>
            <th scope="col">{t('icfVersion')}</th>
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
              <td>{r.state}</td>
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
  tumour_normal: string;
  specimen_type: string;
  state: string;
  holder: string;
  allowed_next: string[];
  history?: { seq: number; from: string; to: string; organisation: string; user: string; time: string; note: string }[];
}

function SpecimenDetail({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { t } = useI18n();
  const [s, setS] = useState<Specimen | null>(null);
  const [to, setTo] = useState('');
  const [note, setNote] = useState('');
  const [destination, setDestination] = useState('');
  const [message, setMessage] = useState('');
  const load = () => api<Specimen>('GET', `/api/v1/specimens/${id}`).then((x) => {
    setS(x);
    setTo(x.allowed_next[0] ?? '');
  });
  useEffect(() => {
    load();
  }, [id]);
  if (!s) return null;
  return (
    <div className="card">
      <h3>
        {s.id} · {s.state}
      </h3>
      {s.allowed_next.length > 0 && (
        <form onSubmit={async (e) => {
          e.preventDefault();
          try {
            await api('POST', `/api/v1/specimens/${id}/custody`, { to, note, destination: destination || undefined });
            setMessage(t('recorded'));
            await load();
            onChanged();
          } catch (err) {
            setMessage(`${t('error')}: ${(err as ApiError).message}`);
          }
        }}>
          <label>
            {t('moveTo')}
            <select value={to} onChange={(e) => setTo(e.target.value)}>
              {s.allowed_next.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          {to === 'shipped' && (
            <label>
              {t('destination')}
              <input value={destination} onChange={(e) => setDestination(e.target.value)} />
            </label>
          )}
          <label>
            {t('note')}
            <input value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          <button type="submit">{t('record')}</button>
        </form>
      )}
      <p role="status">{message}</p>
      <ol className="timeline" aria-label={t('custodyHistory')}>
        {(s.history ?? []).map((h) => (
          <li key={h.seq}>
            <time>{h.time}</time> {h.from} → <strong>{h.to}</strong> · {h.organisation} · {h.user} {h.note}
          </li>
        ))}
      </ol>
    </div>
  );
}

function SpecimenTable({ items, onPick }: { items: Specimen[]; onPick: (id: string) => void }) {
  const { t } = useI18n();
  if (items.length === 0) return <p>{t('noSpecimens')}</p>;
  return (
    <table>
      <caption>{t('specimens')}</caption>
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
          <tr key={s.id}>
            <td>
              <button type="button" className="link" onClick={() => onPick(s.id)}>
                {s.id}
              </button>
            </td>
            <td>{s.participant_id}</td>
            <td>
              {s.tumour_normal} / {s.specimen_type}
            </td>
            <td>{s.state}</td>
            <td>{s.holder}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpecimensPage({ session }: { session: SessionInfo }) {
  const [items, setItems] = useState<Specimen[]>([]);
  const [picked, setPicked] = useState('');
  const load = () =>
    api<{ items: Specimen[] }>('GET', `/api/v1/specimens?holder=${encodeURIComponent(session.organisation)}`)
      .then((r) => setItems(r.items))
      .catch(() => setItems([]));
  useEffect(() => {
    load();
  }, []);
  return (
    <div className="specimens">
      <SpecimenTable items={items} onPick={setPicked} />
      {picked && <SpecimenDetail key={picked} id={picked} onChanged={load} />}
    </div>
  );
}
