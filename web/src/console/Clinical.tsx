// Clinical data entry generated from the data dictionary (R2.3, R2.4): one form per category,
// selections as radio buttons (≤ 6 choices) or a list, each field's and each choice's definition
// shown, inline validation when a field is left, completeness per category, repeating items as
// row editors (add, edit, remove, reorder; each row's fields validated like any field), dates
// entered as absolute dates and stored as days from the index date, the dictionary's
// plausibility checks across categories, drafts autosaved on the device and submission. The
// server validates again and its problems appear next to the fields.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, type ApiProblem } from '../api';
import { useI18n, type Bilingual, type I18n } from '../i18n';
import { codeLabel, consentStates, describeError, units } from '../codes';
import { consolePath, navigate, setLeaveGuard } from '../router';

export interface DictValue {
  code: string;
  label: Bilingual;
  definition?: Bilingual;
}
export interface DictField {
  code: string;
  label: Bilingual;
  definition?: Bilingual;
  type: 'enum' | 'list' | 'string' | 'rel_day' | 'int' | 'code' | 'decimal' | 'bool' | 'date';
  required?: boolean;
  values?: DictValue[];
  value_set?: string;
  unit?: string;
  min?: number;
  max?: number;
  max_length?: number;
  min_items?: number;
  max_items?: number;
  null_flavours?: boolean;
  condition?: unknown;
  system?: string;
  system_from?: string;
  subfields?: DictField[];
}
// A plausibility check of the dictionary ("checks"): paths are "category.field" or
// "category.list[].field"; see src/clinical/dictionary.h.
export interface DictCheck {
  code: string;
  kind: 'order' | 'not_in_future' | 'birth_year_age';
  severity: 'error' | 'warning';
  before?: string[];
  after?: string[];
  same_row?: boolean;
  birth_year?: string;
  age?: string;
  message: Bilingual;
}
export interface Dictionary {
  version: string;
  null_flavours: DictValue[];
  value_sets: Record<string, DictValue[] | { values: DictValue[] }>;
  categories: { code: string; label: Bilingual; definition?: Bilingual; fields: DictField[] }[];
  checks?: DictCheck[];
}

type Data = Record<string, unknown>;
type Row = Record<string, unknown>;

// The dictionary's condition language: program, field/equals, field/in, all, any, not. A field
// reference looks in the same list item first, then at the record's top level.
function applies(cond: any, item: Data, record: Data, program: string): boolean {
  if (!cond) return true;
  if (cond.all) return (cond.all as any[]).every((c) => applies(c, item, record, program));
  if (cond.any) return (cond.any as any[]).some((c) => applies(c, item, record, program));
  if (cond.not) return !applies(cond.not, item, record, program);
  if (cond.program) return cond.program === program;
  if (cond.field) {
    const v = cond.field in item ? item[cond.field] : record[cond.field];
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
const numericTypes = new Set(['int', 'rel_day', 'decimal']);

// Dates: the user types absolute dates; rel_day values are days from the index date.
const dayMs = 86_400_000;
function toDays(date: string, indexDate: string): number | null {
  const a = Date.parse(`${date}T00:00:00Z`);
  const i = Date.parse(`${indexDate}T00:00:00Z`);
  if (!Number.isFinite(a) || !Number.isFinite(i)) return null;
  return Math.round((a - i) / dayMs);
}
function fromDays(days: number, indexDate: string): string {
  const i = Date.parse(`${indexDate}T00:00:00Z`);
  return new Date(i + days * dayMs).toISOString().slice(0, 10);
}
const todayIso = () => new Date().toISOString().slice(0, 10);

function unitSuffix(f: DictField, lang: 'ja' | 'en'): string {
  if (!f.unit) return '';
  const u = units[f.unit]?.[lang] ?? f.unit;
  return lang === 'ja' && (f.unit === 'year' || f.unit === 'day') ? u : ` ${u}`;
}

// The same checks the server makes on a single value, so the message appears as it is left.
function checkValue(f: DictField, raw: unknown, i18n: I18n, isNull: (s: string) => boolean, indexDate: string): string {
  const t = i18n.t;
  if (isEmpty(raw)) return '';
  if (typeof raw === 'string' && f.null_flavours && isNull(raw)) return '';
  if (f.type === 'rel_day' || f.type === 'date') {
    const date = f.type === 'rel_day' ? (typeof raw === 'number' ? fromDays(raw, indexDate) : '') : String(raw);
    if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return t('mustBeDate');
    if (date > todayIso()) return t('dateInFuture');
    return '';
  }
  if (numericTypes.has(f.type)) {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isFinite(n)) return t('mustBeNumber');
    if (f.type !== 'decimal' && !Number.isInteger(n)) return t('mustBeWhole');
    if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
      return t('rangeMessage', { min: f.min ?? '', max: f.max ?? '', unit: unitSuffix(f, i18n.lang) });
    }
  }
  if (typeof raw === 'string' && f.max_length && raw.length > f.max_length) return t('tooLong', { max: f.max_length });
  return '';
}

// What is sent: numbers as numbers, null flavours and text as strings, empty fields and fields
// whose condition is false left out, lists as arrays of rows.
function toPayload(fields: DictField[], item: Data, record: Data, program: string, isNull: (s: string) => boolean): Data {
  const out: Data = {};
  for (const f of fields) {
    if (!applies(f.condition, item, record, program)) continue;
    const v = item[f.code];
    if (f.type === 'list') {
      if (Array.isArray(v) && v.length > 0) {
        out[f.code] = v.map((row: Row) => toPayload(f.subfields ?? [], row, record, program, isNull));
      }
      continue;
    }
    if (isEmpty(v)) continue;
    if (numericTypes.has(f.type) && typeof v === 'string' && !isNull(v)) {
      const n = Number(v.trim());
      out[f.code] = Number.isFinite(n) && v.trim() !== '' ? n : v;
    } else {
      out[f.code] = v;
    }
  }
  return out;
}

// Local checks of every visible value (recursively), keyed by path.
function checkAll(fields: DictField[], item: Data, record: Data, program: string, prefix: string, i18n: I18n, isNull: (s: string) => boolean, indexDate: string, out: Record<string, string>) {
  for (const f of fields) {
    if (!applies(f.condition, item, record, program)) continue;
    const path = prefix + f.code;
    if (f.type === 'list') {
      const rows = Array.isArray(item[f.code]) ? (item[f.code] as Row[]) : [];
      rows.forEach((row, i) => checkAll(f.subfields ?? [], row, record, program, `${path}[${i}].`, i18n, isNull, indexDate, out));
      continue;
    }
    const m = checkValue(f, item[f.code], i18n, isNull, indexDate);
    if (m) out[path] = m;
  }
}

// ---- Plausibility checks across categories ---------------------------------------------------

interface CheckResult {
  check: DictCheck;
  paths: string[]; // "category.path" of the offending values
}

// Values at a path "cat.field" or "cat.list[].field": [{row, value}] (row -1 at top level).
function valuesAt(path: string, records: Record<string, Data>): { row: number; value: unknown; path: string }[] {
  const [cat, ...rest] = path.split('.');
  const data = records[cat] ?? {};
  const m = /^(\w+)\[\]$/.exec(rest[0] ?? '');
  if (m && rest.length === 2) {
    const rows = Array.isArray(data[m[1]]) ? (data[m[1]] as Row[]) : [];
    return rows.map((r, i) => ({ row: i, value: r[rest[1]], path: `${cat}.${m[1]}[${i}].${rest[1]}` }));
  }
  return [{ row: -1, value: data[rest[0]], path: `${cat}.${rest[0]}` }];
}

const asNumber = (v: unknown): number | null => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};

export function runChecks(dict: Dictionary, records: Record<string, Data>, indexDate: string): CheckResult[] {
  const out: CheckResult[] = [];
  for (const c of dict.checks ?? []) {
    if (c.kind === 'order') {
      const before = (c.before ?? []).flatMap((p) => valuesAt(p, records)).filter((x) => asNumber(x.value) !== null);
      const after = (c.after ?? []).flatMap((p) => valuesAt(p, records)).filter((x) => asNumber(x.value) !== null);
      const bad = new Set<string>();
      for (const a of after) {
        for (const bv of before) {
          if (c.same_row && a.row !== bv.row) continue;
          if (asNumber(bv.value)! > asNumber(a.value)!) {
            bad.add(a.path);
            bad.add(bv.path);
          }
        }
      }
      if (bad.size) out.push({ check: c, paths: [...bad] });
    } else if (c.kind === 'birth_year_age' && c.birth_year && c.age) {
      const by = asNumber(valuesAt(c.birth_year, records)[0]?.value);
      const age = asNumber(valuesAt(c.age, records)[0]?.value);
      const year = Number(indexDate.slice(0, 4));
      if (by !== null && (by > new Date().getUTCFullYear() || (age !== null && Math.abs(year - by - age) > 1))) {
        out.push({ check: c, paths: [`${c.birth_year.split('.')[0]}.${c.birth_year.split('.')[1]}`, `${c.age.split('.')[0]}.${c.age.split('.')[1]}`] });
      }
    }
  }
  return out;
}

// ---- Drafts on the device ----------------------------------------------------------------------

interface LocalDraft {
  data: Data;
  saved_at: string;
  base_version: number;
}
const draftKey = (pid: string, cat: string) => `zengen.draft.${pid}.${cat}`;
function readDraft(pid: string, cat: string): LocalDraft | null {
  try {
    const s = localStorage.getItem(draftKey(pid, cat));
    return s ? (JSON.parse(s) as LocalDraft) : null;
  } catch {
    return null;
  }
}
function writeDraft(pid: string, cat: string, d: LocalDraft | null) {
  try {
    if (d) localStorage.setItem(draftKey(pid, cat), JSON.stringify(d));
    else localStorage.removeItem(draftKey(pid, cat));
  } catch {
    // Storage full or disabled: the draft lives only in the page.
  }
}

interface Summary {
  program: string;
  categories: { category: string; filled: number; applicable: number; status: string; version: number }[];
}

interface Ctx {
  dict: Dictionary;
  i18n: I18n;
  program: string;
  indexDate: string;
  record: Data;
  isNull: (s: string) => boolean;
  errorAt: (path: string) => string;
  leave: (f: DictField, path: string, value: unknown) => void;
  focusInfo: (f: DictField, v?: DictValue) => void;
  readOnly: boolean;
}

export function ClinicalForm({ participant, dict, category: asked, canWrite = true }: {
  participant: { id: string; program: string; index_date: string };
  dict: Dictionary;
  category?: string;
  canWrite?: boolean;
}) {
  const i18n = useI18n();
  const { t, pick, lang } = i18n;
  const category = dict.categories.some((c) => c.code === asked) ? asked! : dict.categories[0].code;
  const [summary, setSummary] = useState<Summary | null>(null);
  const [records, setRecords] = useState<Record<string, Data>>({});
  const [data, setData] = useState<Data>({});
  const [record, setRecord] = useState<any>(null);
  const [loaded, setLoaded] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [restored, setRestored] = useState<string>('');
  const [autosaved, setAutosaved] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [serverProblems, setServerProblems] = useState<ApiProblem[]>([]);
  const [status, setStatus] = useState('');
  const [reason, setReason] = useState('');
  const [consent, setConsent] = useState<string>('');
  const [focused, setFocused] = useState<{ field: DictField; value?: DictValue } | null>(null);
  const nullCodes = useMemo(() => new Set(dict.null_flavours.map((n) => n.code)), [dict]);
  const isNull = (s: string) => nullCodes.has(s);
  const pid = participant.id;

  const loadSummary = () => api<Summary>('GET', `/api/v1/participants/${pid}/clinical`).then(setSummary);
  const loadCategory = (cat: string, keepLocal: boolean) =>
    api<any>('GET', `/api/v1/participants/${pid}/clinical/${cat}`).then((r) => {
      const serverData: Data = r.record ? { ...r.record.data } : {};
      setRecord(r.record);
      setRecords((rs) => ({ ...rs, [cat]: serverData }));
      const local = keepLocal ? readDraft(pid, cat) : null;
      if (local && JSON.stringify(local.data) !== JSON.stringify(serverData)) {
        setData(local.data);
        setDirty(true);
        setRestored(local.saved_at);
      } else {
        if (local) writeDraft(pid, cat, null);
        setData(serverData);
        setDirty(false);
        setRestored('');
      }
      setLoaded(true);
    });

  useEffect(() => {
    loadSummary();
    api<{ state: string }>('GET', `/api/v1/participants/${pid}/consents`)
      .then((s) => setConsent(s.state))
      .catch(() => setConsent('unknown'));
    // The other categories, for the plausibility checks across them.
    for (const c of dict.categories) {
      api<any>('GET', `/api/v1/participants/${pid}/clinical/${c.code}`)
        .then((r) => setRecords((rs) => (c.code in rs ? rs : { ...rs, [c.code]: r.record ? r.record.data : {} })))
        .catch(() => undefined);
    }
  }, [pid]);
  // The latest input, so that leaving the category writes it at once instead of waiting for the
  // debounced autosave.
  const latest = useRef<{ data: Data; dirty: boolean; loaded: boolean; version: number }>({ data: {}, dirty: false, loaded: false, version: 0 });
  latest.current = { data, dirty, loaded, version: record?.version ?? 0 };
  useEffect(() => {
    setFieldErrors({});
    setServerProblems([]);
    setStatus('');
    setAutosaved(false);
    setLoaded(false);
    loadCategory(category, true);
    return () => {
      const l = latest.current;
      if (l.dirty && l.loaded) writeDraft(pid, category, { data: l.data, saved_at: new Date().toISOString(), base_version: l.version });
    };
  }, [pid, category]);

  // Autosave on the device, debounced, while there are changes not saved to the server.
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (!dirty || !loaded) return;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => {
      writeDraft(pid, category, { data, saved_at: new Date().toISOString(), base_version: record?.version ?? 0 });
      setAutosaved(true);
    }, 500);
    return () => window.clearTimeout(timer.current);
  }, [data, dirty, loaded]);

  // The unsaved-changes guard: closing or reloading the page, or leaving this participant.
  useEffect(() => {
    if (!dirty) {
      setLeaveGuard(null);
      return;
    }
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    setLeaveGuard((to) => to.startsWith(consolePath('participants', pid)) || window.confirm(t('leaveUnsaved')));
    return () => {
      window.removeEventListener('beforeunload', onBeforeUnload);
      setLeaveGuard(null);
    };
  }, [dirty, pid, lang]);

  const cat = dict.categories.find((c) => c.code === category)!;
  const visible = cat.fields.filter((f) => applies(f.condition, data, data, participant.program));
  const required = visible.filter((f) => f.required);
  const isFilled = (f: DictField) => (f.type === 'list' ? Array.isArray(data[f.code]) && (data[f.code] as Row[]).length >= Math.max(1, f.min_items ?? 1) : !isEmpty(data[f.code]));
  const filled = required.filter(isFilled).length;
  const blocked = consent === 'none' || consent === 'withdrawn_full';
  const readOnly = !canWrite || consent === 'withdrawn_full';

  const allRecords = { ...records, [category]: data };
  const checks = runChecks(dict, allRecords, participant.index_date);
  const checkAt = (path: string) => checks.filter((c) => c.paths.includes(`${category}.${path}`)).map((c) => pick(c.check.message)).join(' ');

  const update = (next: Data) => {
    setData(next);
    setDirty(true);
    setStatus('');
  };
  const leave = (f: DictField, path: string, value: unknown) => {
    const msg = checkValue(f, value, i18n, isNull, participant.index_date);
    setFieldErrors((e) => ({ ...e, [path]: msg }));
  };
  const serverAt = (path: string) => serverProblems.filter((p) => p.path === path).map((p) => p.message[lang]).join(' ');
  const errorAt = (path: string) => [fieldErrors[path], serverAt(path), checkAt(path)].filter(Boolean).join(' ');

  const save = async (submit: boolean) => {
    if (readOnly || blocked) return;
    const errors: Record<string, string> = {};
    checkAll(cat.fields, data, data, participant.program, '', i18n, isNull, participant.index_date, errors);
    setFieldErrors(errors);
    setServerProblems([]);
    const blocking = checks.filter((c) => c.check.severity === 'error' && c.paths.some((p) => p.startsWith(`${category}.`)));
    if (Object.values(errors).some(Boolean) || (submit && blocking.length > 0)) {
      setStatus('');
      const first = Object.keys(errors).find((k) => errors[k]);
      if (first) document.getElementById(fieldId(first))?.focus();
      return;
    }
    const payload = toPayload(cat.fields, data, data, participant.program, isNull);
    try {
      if (submit) await api('POST', `/api/v1/participants/${pid}/clinical/${category}/submit`, { data: payload, reason });
      else await api('PUT', `/api/v1/participants/${pid}/clinical/${category}`, { data: payload, reason });
      setReason('');
      writeDraft(pid, category, null);
      await Promise.all([loadCategory(category, false), loadSummary()]);
      setStatus(submit ? t('saved') : t('draftSaved'));
    } catch (e) {
      const err = e as ApiError;
      setServerProblems(err.problems.length ? err.problems : [{ path: err.field ?? '', code: err.code, message: { ja: describeError('ja', err), en: describeError('en', err) } }]);
    }
  };

  const ctx: Ctx = {
    dict, i18n, program: participant.program, indexDate: participant.index_date, record: data, isNull, errorAt, leave,
    focusInfo: (f, v) => setFocused({ field: f, value: v }), readOnly,
  };
  const fieldLabelOf = (path: string): string => {
    let fields = cat.fields;
    const labels: string[] = [];
    for (const part of path.split('.')) {
      const m = /^(\w+)(?:\[(\d+)\])?$/.exec(part);
      const f = m ? fields.find((x) => x.code === m[1]) : undefined;
      if (!f) return path;
      labels.push(m![2] !== undefined ? `${pick(f.label)} ${t('rowN', { n: Number(m![2]) + 1 })}` : pick(f.label));
      fields = f.subfields ?? [];
    }
    return labels.join(' › ');
  };

  return (
    <div className="clinical" data-consent={consent} onKeyDown={(e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        save(false);
      }
    }}>
      {(consent === 'none' || consent === 'withdrawn_full' || consent === 'withdrawn_no_new_data') && (
        <p className="banner" role="alert" data-testid="consent-banner" data-state={consent}>
          {t(`consentBanner_${consent}` as any)} ({codeLabel(consentStates, lang, consent)})
        </p>
      )}
      <div className="tabs" role="tablist" aria-label={t('category')}>
        {dict.categories.map((c) => {
          const s = summary?.categories.find((x) => x.category === c.code);
          const hasLocal = c.code === category ? dirty : !!readDraft(pid, c.code);
          return (
            <button key={c.code} role="tab" type="button" aria-selected={c.code === category} aria-controls="category-panel" id={`tab-${c.code}`} onClick={() => navigate(consolePath('participants', pid, c.code))}>
              <span>{pick(c.label)}</span>
              {s && (
                <span className="tab-meta">
                  {s.filled}
                  {t('of')}
                  {s.applicable} · {t(`status_${s.status}` as any)}
                  {hasLocal && <> · <span data-testid={`unsaved-${c.code}`}>{t('unsavedChanges')}</span></>}
                </span>
              )}
              {s && <progress max={Math.max(1, s.applicable)} value={s.filled} aria-hidden="true" />}
            </button>
          );
        })}
      </div>
      <div className="form-and-side">
        <form id="category-panel" role="tabpanel" aria-labelledby={`tab-${category}`} data-loaded={loaded ? category : ''} onSubmit={(e) => e.preventDefault()} noValidate>
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
          {restored && (
            <p className="notice" role="status" data-testid="draft-restored">
              {t('localDraftRestored', { time: restored.replace('T', ' ').slice(0, 19) })}{' '}
              <button type="button" className="small" onClick={() => {
                writeDraft(pid, category, null);
                loadCategory(category, false);
              }}>
                {t('discardLocalDraft')}
              </button>
            </p>
          )}
          {loaded && visible.map((f) => (
            <FieldView key={f.code} f={f} path={f.code} item={data} ctx={ctx} onChange={(v) => update({ ...data, [f.code]: v })} />
          ))}
          {checks.length > 0 && (
            <div className="problems warnings" data-testid="plausibility">
              <h3>{t('plausibilityTitle')}</h3>
              <ul>
                {checks.map((c) => (
                  <li key={c.check.code} data-check={c.check.code} data-severity={c.check.severity}>
                    {c.check.severity === 'error' ? t('error') : t('warning')}: {pick(c.check.message)}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {serverProblems.length > 0 && (
            <div role="alert" className="problems" data-testid="server-problems">
              <h3>{t('problemsTitle')}</h3>
              <ul>
                {serverProblems.map((p, i) => (
                  <li key={i}>
                    {p.path && (
                      <a href={`#${fieldId(p.path)}`} onClick={(e) => {
                        e.preventDefault();
                        document.getElementById(fieldId(p.path))?.focus();
                      }}>
                        {fieldLabelOf(p.path)}
                      </a>
                    )}{' '}
                    {p.message[lang]}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {record && !readOnly && (
            <label className="field">
              <span className="field-label">{t('changeReason')}</span>
              <span className="field-def">{t('changeReasonHelp')}</span>
              <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            </label>
          )}
          {!readOnly && (
            <div className="actions">
              <button type="button" disabled={blocked} onClick={() => save(false)}>
                {t('saveDraft')}
              </button>
              <button type="button" className="primary" disabled={blocked} onClick={() => save(true)}>
                {t('submit')}
              </button>
              <span role="status" data-testid="save-status">
                {status}
              </span>
              <span className="muted" data-testid="autosave-status">{dirty && autosaved ? t('autosaved') : ''}</span>
            </div>
          )}
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

// "drug_lines[1].drugs[0].generic_name" → "f-drug_lines-1-drugs-0-generic_name".
function fieldId(path: string): string {
  return `f-${path.replace(/\[(\d+)\]\./g, '-$1-').replace(/\./g, '-')}`;
}

function FieldView({ f, path, item, ctx, onChange }: { f: DictField; path: string; item: Data; ctx: Ctx; onChange: (v: unknown) => void }) {
  if (f.type === 'list') return <ListEditor f={f} path={path} rows={Array.isArray(item[f.code]) ? (item[f.code] as Row[]) : []} ctx={ctx} onChange={onChange} />;
  const system = f.type === 'code' ? (f.system_from ? (typeof item[f.system_from] === 'string' ? (item[f.system_from] as string) : '') : f.system ?? '') : '';
  return <FieldInput f={f} path={path} value={item[f.code]} ctx={ctx} onChange={onChange} system={system} />;
}

// ---- The code picker: suggestions from the code list the operator loaded ----------------------

interface CodeMatches {
  loaded: boolean;
  size: number;
  codes: string[];
}
const codeCache = new Map<string, CodeMatches>();

// Codes of the loaded list for system matching what is typed (GET /api/v1/code-lists/{system}),
// asked 200 ms after the last keystroke; null while unknown or when the list cannot be read.
function useCodeMatches(system: string, query: string): CodeMatches | null {
  const key = `${system}\u0000${query}`;
  const [found, setFound] = useState<CodeMatches | null>(codeCache.get(key) ?? null);
  useEffect(() => {
    if (!system) {
      setFound(null);
      return;
    }
    const cached = codeCache.get(key);
    if (cached) {
      setFound(cached);
      return;
    }
    let live = true;
    const timer = window.setTimeout(() => {
      api<CodeMatches>('GET', `/api/v1/code-lists/${encodeURIComponent(system)}?limit=30&q=${encodeURIComponent(query)}`)
        .then((r) => {
          codeCache.set(key, r);
          if (live) setFound(r);
        })
        .catch(() => live && setFound(null));
    }, 200);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [key]);
  return found;
}

// A repeating item: one card per row with the item's fields, add / remove / move up / move down.
function ListEditor({ f, path, rows, ctx, onChange }: { f: DictField; path: string; rows: Row[]; ctx: Ctx; onChange: (rows: Row[]) => void }) {
  const { t, pick } = ctx.i18n;
  const id = fieldId(path);
  const label = pick(f.label);
  const error = ctx.errorAt(path);
  const move = (i: number, d: number) => {
    const next = [...rows];
    const [r] = next.splice(i, 1);
    next.splice(i + d, 0, r);
    onChange(next);
  };
  const max = f.max_items ?? 200;
  return (
    <fieldset className="field list-field" id={id} tabIndex={-1} data-list={path}>
      <legend>
        {label} ({rows.length})
        {f.required && <span className="req"> ({t('required')})</span>}
      </legend>
      <span className="field-def">{pick(f.definition)}</span>
      {f.required && rows.length < Math.max(1, f.min_items ?? 1) && <span className="muted"> {t('minRows', { min: Math.max(1, f.min_items ?? 1) })}</span>}
      {rows.length === 0 && <p className="muted">{t('noRows')}</p>}
      <ol className="rows">
        {rows.map((row, i) => {
          const rowPath = `${path}[${i}]`;
          const rowName = `${label} ${t('rowN', { n: i + 1 })}`;
          const sub = (f.subfields ?? []).filter((s) => applies(s.condition, row, ctx.record, ctx.program));
          return (
            <li key={i} className="row-card" data-row={i}>
              <fieldset>
                <legend>{rowName}</legend>
                {sub.map((s) => (
                  <FieldView key={s.code} f={s} path={`${rowPath}.${s.code}`} item={row} ctx={ctx} onChange={(v) => {
                    const next = [...rows];
                    next[i] = { ...row, [s.code]: v };
                    onChange(next);
                  }} />
                ))}
                {ctx.errorAt(rowPath) && <span className="field-error" role="alert">{ctx.errorAt(rowPath)}</span>}
                {!ctx.readOnly && (
                  <div className="row-actions">
                    <button type="button" className="small" disabled={i === 0} aria-label={`${rowName}: ${t('moveUp')}`} onClick={() => move(i, -1)}>↑ {t('moveUp')}</button>
                    <button type="button" className="small" disabled={i === rows.length - 1} aria-label={`${rowName}: ${t('moveDown')}`} onClick={() => move(i, 1)}>↓ {t('moveDown')}</button>
                    <button type="button" className="small" aria-label={`${rowName}: ${t('removeRow')}`} onClick={() => onChange(rows.filter((_, k) => k !== i))}>✕ {t('removeRow')}</button>
                  </div>
                )}
              </fieldset>
            </li>
          );
        })}
      </ol>
      {!ctx.readOnly && rows.length < max && (
        <button type="button" className="add-row" aria-label={`${label}: ${t('addRow')}`} onClick={() => {
          onChange([...rows, {}]);
          // Focus the new row's first field once it is drawn.
          window.setTimeout(() => {
            const el = document.querySelector<HTMLElement>(`[data-list="${path}"] > ol > li:last-child input, [data-list="${path}"] > ol > li:last-child select`);
            el?.focus();
          }, 0);
        }}>
          ＋ {t('addRow')}
        </button>
      )}
      {error && <span className="field-error" role="alert" data-testid={`error-${path}`}>{error}</span>}
    </fieldset>
  );
}

function FieldInput({ f, path, value, ctx, onChange, system = '' }: { f: DictField; path: string; value: unknown; ctx: Ctx; onChange: (v: unknown) => void; system?: string }) {
  const { t, pick, lang } = ctx.i18n;
  const id = fieldId(path);
  const descId = `${id}-def`;
  const errId = `${id}-err`;
  const error = ctx.errorAt(path);
  const describedBy = error ? `${descId} ${errId}` : descId;
  const values = valuesOf(f, ctx.dict);
  const nullFlavours = f.null_flavours ? ctx.dict.null_flavours : [];
  const onLeave = () => ctx.leave(f, path, value);
  const onFocusInfo = (v?: DictValue) => ctx.focusInfo(f, v);
  const unit = f.unit && f.type !== 'rel_day' ? <span className="unit"> [{units[f.unit]?.[lang] ?? f.unit}]</span> : null;
  const label = (
    <>
      {pick(f.label)}
      {f.required && <span className="req"> ({t('required')})</span>}
      {unit}
    </>
  );
  const def = (
    <span className="field-def" id={descId}>
      {pick(f.definition)}
    </span>
  );
  const err = error ? (
    <span className="field-error" id={errId} role="alert" data-testid={`error-${path}`}>
      {error}
    </span>
  ) : null;
  const disabled = ctx.readOnly;
  const typed = typeof value === 'string' && !ctx.isNull(value) ? value.trim() : '';
  const matches = useCodeMatches(disabled ? '' : system, typed);

  if (f.type === 'enum' || f.type === 'bool') {
    const choices: { code: string; value: unknown; label: string; def?: DictValue }[] =
      f.type === 'bool'
        ? [{ code: 'true', value: true, label: t('bool_true') }, { code: 'false', value: false, label: t('bool_false') }]
        : [...values, ...nullFlavours.filter((n) => n.code === 'UNK')].map((v) => ({ code: v.code, value: v.code, label: pick(v.label), def: v }));
    if (choices.length <= 7) {
      return (
        <fieldset className="field" aria-describedby={describedBy} data-field={path} onBlur={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node)) onLeave();
        }}>
          <legend>{label}</legend>
          {def}
          <div className="radios">
            {choices.map((v) => (
              <label key={v.code} title={v.def ? pick(v.def.definition) : undefined} className="radio">
                <input type="radio" name={path} id={`${id}-${v.code}`} value={v.code} disabled={disabled} checked={value === v.value} onChange={() => onChange(v.value)} onFocus={() => onFocusInfo(v.def)} />
                {v.label}
              </label>
            ))}
            {!f.required && (
              <label className="radio">
                <input type="radio" name={path} value="" disabled={disabled} checked={value === undefined || value === ''} onChange={() => onChange('')} onFocus={() => onFocusInfo()} />
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
        <select id={id} name={path} disabled={disabled} value={typeof value === 'string' ? value : ''} aria-describedby={describedBy} aria-invalid={!!error} onChange={(e) => {
          onChange(e.target.value);
          onFocusInfo(choices.find((c) => c.code === e.target.value)?.def);
        }} onBlur={onLeave} onFocus={() => onFocusInfo(choices.find((c) => c.code === value)?.def)}>
          <option value="">{t('notAnswered')}</option>
          {choices.map((v) => (
            <option key={v.code} value={v.code} title={v.def ? pick(v.def.definition) : undefined}>
              {v.label}
            </option>
          ))}
        </select>
        {err}
      </div>
    );
  }
  const unknownButton = f.null_flavours && !disabled && (
    <button type="button" className="small" aria-label={`${pick(f.label)}: ${t('unknownChoice')} (UNK)`} onClick={() => {
      onChange('UNK');
      ctx.leave(f, path, 'UNK');
    }}>
      {t('unknownChoice')}
    </button>
  );
  if (f.type === 'rel_day' || f.type === 'date') {
    const isUnknown = typeof value === 'string' && ctx.isNull(value);
    const dateValue = f.type === 'rel_day' ? (typeof value === 'number' ? fromDays(value, ctx.indexDate) : '') : typeof value === 'string' && !isUnknown ? value : '';
    return (
      <div className="field">
        <label htmlFor={id} className="field-label">
          {label}
        </label>
        {def}
        <div className="input-row">
          <input
            id={id}
            name={path}
            type="date"
            max={todayIso()}
            disabled={disabled}
            value={dateValue}
            aria-describedby={describedBy}
            aria-invalid={!!error}
            onChange={(e) => {
              const v = e.target.value;
              if (!v) onChange('');
              else if (f.type === 'date') onChange(v);
              else onChange(toDays(v, ctx.indexDate) ?? '');
            }}
            onBlur={onLeave}
            onFocus={() => onFocusInfo()}
          />
          {unknownButton}
          <span className="muted" data-testid={`days-${path}`}>
            {isUnknown ? t('unknownChoice') : f.type === 'rel_day' && typeof value === 'number' ? t('dayFromIndex', { n: value }) : ''}
          </span>
        </div>
        {err}
      </div>
    );
  }
  const numeric = numericTypes.has(f.type);
  const pickerId = `${id}-codes`;
  const picker = matches?.loaded ? (
    <>
      <datalist id={pickerId} data-testid={`codes-${path}`}>
        {matches.codes.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      <span className="muted" data-testid={`code-list-${path}`} data-loaded="true">
        {typed && !matches.codes.some((c) => c.toUpperCase() === typed.toUpperCase())
          ? matches.codes.length
            ? t('codeMatches', { n: matches.codes.length, size: matches.size })
            : t('codeNotInLoadedList', { size: matches.size })
          : t('codeListLoaded', { size: matches.size })}
      </span>
    </>
  ) : null;
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {def}
      <div className="input-row">
        <input
          id={id}
          name={path}
          list={picker ? pickerId : undefined}
          autoComplete={picker ? 'off' : undefined}
          disabled={disabled}
          inputMode={numeric ? (f.type === 'decimal' ? 'decimal' : 'numeric') : undefined}
          value={value === undefined || value === null ? '' : String(value)}
          aria-describedby={describedBy}
          aria-invalid={!!error}
          onChange={(e) => onChange(e.target.value)}
          onBlur={onLeave}
          onFocus={() => onFocusInfo()}
        />
        {unknownButton}
        {picker}
      </div>
      {err}
    </div>
  );
}
