// Clinical data entry generated from the data dictionary (R2.3, R2.4): one form per category,
// selections as radio buttons (≤ 6 choices) or a list, each field's and each choice's definition
// shown, inline validation when a field is left, completeness per category, drafts and
// submission. The server validates again and its problems appear next to the fields.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, type ApiProblem } from '../api';
import { useI18n, type Bilingual } from '../i18n';

export interface DictValue {
  code: string;
  label: Bilingual;
  definition?: Bilingual;
}
export interface DictField {
  code: string;
  label: Bilingual;
  definition?: Bilingual;
  type: 'enum' | 'list' | 'string' | 'rel_day' | 'int' | 'code' | 'decimal';
  required?: boolean;
  values?: DictValue[];
  value_set?: string;
  unit?: string;
  min?: number;
  max?: number;
  max_length?: number;
  null_flavours?: boolean;
  condition?: unknown;
}
export interface Dictionary {
  version: string;
  null_flavours: DictValue[];
  value_sets: Record<string, DictValue[] | { values: DictValue[] }>;
  categories: { code: string; label: Bilingual; definition?: Bilingual; fields: DictField[] }[];
}

type Data = Record<string, unknown>;

// The dictionary's condition language: program, field/equals, field/in, all, any, not.
function applies(cond: any, data: Data, program: string): boolean {
  if (!cond) return true;
  if (cond.all) return (cond.all as any[]).every((c) => applies(c, data, program));
  if (cond.any) return (cond.any as any[]).some((c) => applies(c, data, program));
  if (cond.not) return !applies(cond.not, data, program);
  if (cond.program) return cond.program === program;
  if (cond.field) {
    const v = data[cond.field];
    const allowed: string[] = cond.equals !== undefined ? [cond.equals] : cond.in ?? [];
    return typeof v === 'string' && allowed.includes(v);
  }
  return true;
}

function valuesOf(f: DictField, dict: Dictionary): DictValue[] {
  if (f.values) return f.values;
  if (f.value_set) {
    const vs = dict.value_sets[f.value_set];
    if (Array.isArray(vs)) return vs;
    if (vs && Array.isArray((vs as any).values)) return (vs as any).values;
  }
  return [];
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

// The same checks the server makes on a single field, so the message appears as it is left.
const unitText: Record<string, { ja: string; en: string }> = {
  year: { ja: '歳', en: ' years' },
  day: { ja: '日', en: ' days' },
};

function checkField(f: DictField, raw: unknown, i18n: ReturnType<typeof useI18n>, isNull: (s: string) => boolean): string {
  const t = i18n.t;
  if (isEmpty(raw)) return '';
  if (typeof raw === 'string' && f.null_flavours && isNull(raw)) return '';
  if (f.type === 'int' || f.type === 'rel_day' || f.type === 'decimal') {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isFinite(n)) return t('mustBeNumber');
    if (f.type !== 'decimal' && !Number.isInteger(n)) return t('mustBeWhole');
    if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
      return t('rangeMessage', { min: f.min ?? '', max: f.max ?? '', unit: f.unit ? unitText[f.unit]?.[i18n.lang] ?? ` ${f.unit}` : '' });
    }
  }
  if (typeof raw === 'string' && f.max_length && raw.length > f.max_length) return t('tooLong', { max: f.max_length });
  return '';
}

// What is sent: numbers as numbers, null flavours and text as strings, empty fields left out.
function toPayload(fields: DictField[], data: Data, isNull: (s: string) => boolean): Data {
  const out: Data = {};
  for (const f of fields) {
    const v = data[f.code];
    if (isEmpty(v)) continue;
    if ((f.type === 'int' || f.type === 'rel_day' || f.type === 'decimal') && typeof v === 'string' && !isNull(v)) {
      const n = Number(v.trim());
      out[f.code] = Number.isFinite(n) && v.trim() !== '' ? n : v;
    } else {
      out[f.code] = v;
    }
  }
  return out;
}

interface Summary {
  program: string;
  categories: { category: string; filled: number; applicable: number; status: string; version: number }[];
}

export function ClinicalForm({ participant, dict }: { participant: { id: string; program: string }; dict: Dictionary }) {
  const i18n = useI18n();
  const { t, pick, lang } = i18n;
  const [summary, setSummary] = useState<Summary | null>(null);
  const [category, setCategory] = useState(dict.categories[0].code);
  const [data, setData] = useState<Data>({});
  const [record, setRecord] = useState<any>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [serverProblems, setServerProblems] = useState<ApiProblem[]>([]);
  const [status, setStatus] = useState('');
  const [reason, setReason] = useState('');
  const [focused, setFocused] = useState<{ field: DictField; value?: DictValue } | null>(null);
  const nullCodes = useMemo(() => new Set(dict.null_flavours.map((n) => n.code)), [dict]);
  const isNull = (s: string) => nullCodes.has(s);

  const loadSummary = () => api<Summary>('GET', `/api/v1/participants/${participant.id}/clinical`).then(setSummary);
  const loadCategory = (cat: string) =>
    api<any>('GET', `/api/v1/participants/${participant.id}/clinical/${cat}`).then((r) => {
      setRecord(r.record);
      setData(r.record ? { ...r.record.data } : {});
    });

  useEffect(() => {
    loadSummary();
  }, [participant.id]);
  useEffect(() => {
    setFieldErrors({});
    setServerProblems([]);
    setStatus('');
    loadCategory(category);
  }, [participant.id, category]);

  const cat = dict.categories.find((c) => c.code === category)!;
  const visible = cat.fields.filter((f) => applies(f.condition, data, participant.program));
  const required = visible.filter((f) => f.required && f.type !== 'list');
  const filled = required.filter((f) => !isEmpty(data[f.code])).length;

  const set = (code: string, v: unknown) => {
    setData((d) => ({ ...d, [code]: v }));
    setStatus('');
  };
  const leave = (f: DictField) => {
    const msg = checkField(f, data[f.code], i18n, isNull);
    setFieldErrors((e) => ({ ...e, [f.code]: msg }));
  };

  const save = async (submit: boolean) => {
    const errors: Record<string, string> = {};
    for (const f of visible) {
      const m = checkField(f, data[f.code], i18n, isNull);
      if (m) errors[f.code] = m;
    }
    setFieldErrors(errors);
    setServerProblems([]);
    if (Object.values(errors).some(Boolean)) {
      setStatus('');
      document.getElementById(`f-${Object.keys(errors).find((k) => errors[k])}`)?.focus();
      return;
    }
    const payload = { ...(record?.data ?? {}), ...toPayload(visible, data, isNull) };
    for (const f of visible) if (isEmpty(data[f.code])) delete payload[f.code];
    try {
      if (submit) await api('POST', `/api/v1/participants/${participant.id}/clinical/${category}/submit`, { data: payload, reason });
      else await api('PUT', `/api/v1/participants/${participant.id}/clinical/${category}`, { data: payload, reason });
      setReason('');
      setStatus(submit ? t('saved') : t('draftSaved'));
      await Promise.all([loadCategory(category), loadSummary()]);
    } catch (e) {
      const err = e as ApiError;
      setServerProblems(err.problems.length ? err.problems : [{ path: err.field ?? '', code: err.code, message: { ja: err.message, en: err.message } }]);
    }
  };

  const problemFor = (code: string) => serverProblems.filter((p) => p.path === code || p.path.startsWith(`${code}[`) || p.path.startsWith(`${code}.`));

  return (
    <div className="clinical" onKeyDown={(e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        save(false);
      }
    }}>
      <div className="tabs" role="tablist" aria-label={t('category')}>
        {dict.categories.map((c) => {
          const s = summary?.categories.find((x) => x.category === c.code);
          return (
            <button key={c.code} role="tab" type="button" aria-selected={c.code === category} aria-controls="category-panel" id={`tab-${c.code}`} onClick={() => setCategory(c.code)}>
              <span>{pick(c.label)}</span>
              {s && (
                <span className="tab-meta">
                  {s.filled}
                  {t('of')}
                  {s.applicable} · {t(`status_${s.status}` as any)}
                </span>
              )}
              {s && <progress max={Math.max(1, s.applicable)} value={s.filled} aria-hidden="true" />}
            </button>
          );
        })}
      </div>
      <div className="form-and-side">
        <form id="category-panel" role="tabpanel" aria-labelledby={`tab-${category}`} onSubmit={(e) => e.preventDefault()} noValidate>
          <p className="completeness" data-testid="completeness">
            {t('completeness')}: {filled}
            {t('of')}
            {required.length}
            {record && (
              <span className="record-status" data-testid="record-status">
                {' '}
                · {t('version')} {record.version} · {t(`status_${record.status}` as any)}
              </span>
            )}
          </p>
          <progress max={Math.max(1, required.length)} value={filled} aria-label={t('completeness')} />
          {visible.map((f) => (
            <FieldInput
              key={f.code}
              field={f}
              values={valuesOf(f, dict)}
              nullFlavours={f.null_flavours ? dict.null_flavours : []}
              value={data[f.code]}
              error={fieldErrors[f.code] || problemFor(f.code).map((p) => p.message[lang]).join(' ')}
              onChange={(v) => set(f.code, v)}
              onLeave={() => leave(f)}
              onFocusInfo={(v) => setFocused({ field: f, value: v })}
            />
          ))}
          {serverProblems.length > 0 && (
            <div role="alert" className="problems" data-testid="server-problems">
              <h3>{t('problemsTitle')}</h3>
              <ul>
                {serverProblems.map((p, i) => (
                  <li key={i}>
                    {p.path && <code>{p.path}</code>} {p.message[lang]}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {record && (
            <label className="field">
              <span className="field-label">{t('changeReason')}</span>
              <span className="field-def">{t('changeReasonHelp')}</span>
              <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            </label>
          )}
          <div className="actions">
            <button type="button" onClick={() => save(false)}>
              {t('saveDraft')}
            </button>
            <button type="button" className="primary" onClick={() => save(true)}>
              {t('submit')}
            </button>
            <span role="status" data-testid="save-status">
              {status}
            </span>
          </div>
        </form>
        <aside className="side card" aria-live="polite" aria-label={t('definition')}>
          <h3>{t('definition')}</h3>
          {focused ? (
            <>
              <p>
                <strong>{pick(focused.field.label)}</strong>: {pick(focused.field.definition)}
              </p>
              {focused.value && (
                <p>
                  <strong>{pick(focused.value.label)}</strong>: {pick(focused.value.definition)}
                </p>
              )}
            </>
          ) : (
            <p>{pick(cat.definition)}</p>
          )}
        </aside>
      </div>
    </div>
  );
}

function FieldInput({ field: f, values, nullFlavours, value, error, onChange, onLeave, onFocusInfo }: {
  field: DictField;
  values: DictValue[];
  nullFlavours: DictValue[];
  value: unknown;
  error: string;
  onChange: (v: unknown) => void;
  onLeave: () => void;
  onFocusInfo: (v?: DictValue) => void;
}) {
  const { t, pick } = useI18n();
  const id = `f-${f.code}`;
  const descId = `${id}-def`;
  const errId = `${id}-err`;
  const describedBy = error ? `${descId} ${errId}` : descId;
  const label = (
    <>
      {pick(f.label)}
      {f.required && <span className="req"> ({t('required')})</span>}
      {f.unit && <span className="unit"> [{f.unit}]</span>}
    </>
  );
  const def = (
    <span className="field-def" id={descId}>
      {pick(f.definition)}
    </span>
  );
  const err = error ? (
    <span className="field-error" id={errId} role="alert" data-testid={`error-${f.code}`}>
      {error}
    </span>
  ) : null;

  if (f.type === 'list') {
    const n = Array.isArray(value) ? value.length : 0;
    return (
      <div className="field">
        <span className="field-label">{pick(f.label)}</span>
        {def}
        <span className="muted">{t('listNotEditable', { n })}</span>
      </div>
    );
  }
  if (f.type === 'enum') {
    const choices = [...values, ...nullFlavours.filter((n) => n.code === 'UNK')];
    if (choices.length <= 7) {
      return (
        <fieldset className="field" aria-describedby={describedBy} onBlur={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node)) onLeave();
        }}>
          <legend>{label}</legend>
          {def}
          <div className="radios">
            {choices.map((v) => (
              <label key={v.code} title={pick(v.definition)} className="radio">
                <input type="radio" name={f.code} id={`${id}-${v.code}`} value={v.code} checked={value === v.code} onChange={() => onChange(v.code)} onFocus={() => onFocusInfo(v)} />
                {pick(v.label)}
              </label>
            ))}
            {!f.required && (
              <label className="radio">
                <input type="radio" name={f.code} value="" checked={value === undefined || value === ''} onChange={() => onChange('')} onFocus={() => onFocusInfo()} />
                {t('notAnswered')}
              </label>
            )}
          </div>
          {err}
        </fieldset>
      );
    }
    return (
      <div className="field">
        <label htmlFor={id} className="field-label">
          {label}
        </label>
        {def}
        <select id={id} name={f.code} value={typeof value === 'string' ? value : ''} aria-describedby={describedBy} aria-invalid={!!error} onChange={(e) => {
          onChange(e.target.value);
          onFocusInfo(choices.find((c) => c.code === e.target.value));
        }} onBlur={onLeave} onFocus={() => onFocusInfo(choices.find((c) => c.code === value))}>
          <option value="">{t('notAnswered')}</option>
          {choices.map((v) => (
            <option key={v.code} value={v.code} title={pick(v.definition)}>
              {pick(v.label)}
            </option>
          ))}
        </select>
        {err}
      </div>
    );
  }
  const numeric = f.type === 'int' || f.type === 'rel_day' || f.type === 'decimal';
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {def}
      <div className="input-row">
        <input
          id={id}
          name={f.code}
          inputMode={numeric ? (f.type === 'decimal' ? 'decimal' : 'numeric') : undefined}
          value={value === undefined || value === null ? '' : String(value)}
          aria-describedby={describedBy}
          aria-invalid={!!error}
          onChange={(e) => onChange(e.target.value)}
          onBlur={onLeave}
          onFocus={() => onFocusInfo()}
        />
        {f.null_flavours && (
          <button type="button" className="small" aria-label={`${pick(f.label)}: ${t('unknownChoice')} (UNK)`} onClick={() => onChange('UNK')}>
            {t('unknownChoice')}
          </button>
        )}
      </div>
      {err}
    </div>
  );
}
