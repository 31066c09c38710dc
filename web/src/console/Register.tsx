// Registering a participant (hospital clinicians): local ID, programme, disease category and
// index date. Every problem is shown next to its field; on success the participant's page
// opens (its consent comes next).
import { useState } from 'react';
import { api, ApiError } from '../api';
import { diseaseCategories, diseaseLabel, useI18n, type TextKey } from '../i18n';
import { consolePath, navigate, useTitle } from '../router';
import { describeError, errorMessage } from '../codes';
import type { ParticipantRow } from './Console';

const today = () => new Date().toISOString().slice(0, 10);

export function RegisterParticipant() {
  const { t, lang } = useI18n();
  useTitle(t('registerParticipant'), t('appName'));
  const [localId, setLocalId] = useState('');
  const [program, setProgram] = useState('');
  const [disease, setDisease] = useState('');
  const [indexDate, setIndexDate] = useState(today());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const submit = async () => {
    const e: Record<string, string> = {};
    if (!localId.trim()) e.local_id = errorMessage(lang, 'missing_field', 'local_id');
    else if (!/^[\x21-\x7e]{1,64}$/.test(localId.trim())) e.local_id = errorMessage(lang, 'invalid_local_id');
    if (!program) e.program = errorMessage(lang, 'invalid_program');
    if (!disease) e.disease_category = errorMessage(lang, 'invalid_disease_category');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(indexDate)) e.index_date = errorMessage(lang, 'invalid_index_date');
    else if (indexDate > today()) e.index_date = errorMessage(lang, 'date_in_future', 'index_date');
    setErrors(e);
    setMessage('');
    if (Object.keys(e).length) {
      document.getElementById(`reg-${Object.keys(e)[0]}`)?.focus();
      return;
    }
    try {
      const r = await api<{ participant: ParticipantRow; created: boolean }>('POST', '/api/v1/participants', {
        local_id: localId.trim(), program, disease_category: disease, index_date: indexDate,
      });
      navigate(consolePath('participants', r.participant.id));
    } catch (err) {
      const ae = err as ApiError;
      if (ae.field) setErrors({ [ae.field]: describeError(lang, err) });
      else setMessage(describeError(lang, err));
    }
  };
  const err = (f: string) => errors[f] ? <span className="field-error" id={`reg-${f}-err`} role="alert" data-testid={`error-${f}`}>{errors[f]}</span> : null;
  return (
    <form className="card register" aria-labelledby="h-register" noValidate onSubmit={(e) => {
      e.preventDefault();
      submit();
    }}>
      <h2 id="h-register">{t('registerParticipant')}</h2>
      <p className="muted">{t('registerHelp')}</p>
      <div className="field">
        <label htmlFor="reg-local_id" className="field-label">{t('localId')} <span className="req">({t('required')})</span></label>
        <span className="field-def" id="reg-local_id-def">{t('localIdHelp')}</span>
        <input id="reg-local_id" value={localId} autoComplete="off" aria-invalid={!!errors.local_id} aria-describedby={errors.local_id ? 'reg-local_id-def reg-local_id-err' : 'reg-local_id-def'} onChange={(e) => setLocalId(e.target.value)} />
        {err('local_id')}
      </div>
      <fieldset className="field" id="reg-program" tabIndex={-1}>
        <legend>{t('program')} <span className="req">({t('required')})</span></legend>
        <div className="radios">
          {['cancer', 'rare_disease'].map((p) => (
            <label key={p} className="radio">
              <input type="radio" name="program" value={p} checked={program === p} onChange={() => {
                setProgram(p);
                setDisease('');
              }} />
              {t(`program_${p}` as TextKey)}
            </label>
          ))}
        </div>
        {err('program')}
      </fieldset>
      <div className="field">
        <label htmlFor="reg-disease_category" className="field-label">{t('diseaseCategory')} <span className="req">({t('required')})</span></label>
        <select id="reg-disease_category" value={disease} aria-invalid={!!errors.disease_category} onChange={(e) => setDisease(e.target.value)}>
          <option value="">{t('notAnswered')}</option>
          {diseaseCategories(program).map((d) => (
            <option key={d} value={d}>{diseaseLabel(lang, d)}</option>
          ))}
        </select>
        {err('disease_category')}
      </div>
      <div className="field">
        <label htmlFor="reg-index_date" className="field-label">{t('indexDate')} <span className="req">({t('required')})</span></label>
        <span className="field-def" id="reg-index_date-def">{t('indexDateHelp')}</span>
        <input id="reg-index_date" type="date" max={today()} value={indexDate} aria-invalid={!!errors.index_date} aria-describedby="reg-index_date-def" onChange={(e) => setIndexDate(e.target.value)} />
        {err('index_date')}
      </div>
      <div className="actions">
        <button type="submit" className="primary">{t('register')}</button>
        <button type="button" onClick={() => navigate(consolePath('participants'))}>{t('cancel')}</button>
        <span role="status" data-testid="register-status">{message}</span>
      </div>
    </form>
  );
}
