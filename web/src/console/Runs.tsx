// Analysis runs (issue 16): the analysis centre's (all, for the data centre) runs with their
// state, pipeline and version, reference, executor and step progress; the log (analysis centre
// only) and the provenance document; cancel a queued or running run, retry a failed one; start
// a run for a specimen ordered to the centre (a tumour/normal pair for the somatic pipeline).
// While a run is queued or running the list refreshes itself.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { describeError, errorMessage } from '../codes';
import { useI18n, type TextKey } from '../i18n';

interface Step {
  name: string;
  state: string;
  started_at: string | null;
  ended_at: string | null;
}

interface Run {
  id: string;
  specimen_id: string;
  normal_specimen_id: string | null;
  participant_id: string;
  centre: string;
  pipeline: string;
  version: string;
  reference: string;
  executor: string;
  state: string;
  attempt: number;
  step: number;
  steps: number;
  step_detail: Step[];
  outputs: string[];
  error: { code: string; message: string } | null;
  node: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

interface Candidate {
  specimen_id: string;
  participant_id: string;
  tumour_normal: string;
  state: string;
  centre: string;
}

interface Reference {
  name: string;
  sha256: string;
}

// The pipelines this server runs (analysis.cc KnownPipelines); `pair`: tumour + normal.
const pipelines = [
  { name: 'germline', version: '1.0.0', pair: false },
  { name: 'somatic', version: '1.1.0', pair: true },
] as const;

const refreshMillis = 3000;

export function RunsPage({ session }: { session: SessionInfo }) {
  const { t, lang } = useI18n();
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [candidates, setCandidates] = useState<Candidate[]>([]);
  const [references, setReferences] = useState<Reference[]>([]);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);
  const [log, setLog] = useState<{ id: string; text: string } | null>(null);
  const isAnalyst = session.roles.includes('analyst');

  useEffect(() => {
    api<{ items: Reference[] }>('GET', '/api/v1/analysis/references')
      .then((r) => setReferences(r.items))
      .catch((e) => setError(describeError(lang, e)));
  }, []);
  useEffect(() => {
    api<{ items: Run[] }>('GET', '/api/v1/analysis/runs')
      .then((r) => setRuns(r.items))
      .catch((e) => setError(describeError(lang, e)));
    api<{ items: Candidate[] }>('GET', '/api/v1/analysis/candidates')
      .then((r) => setCandidates(r.items))
      .catch((e) => setError(describeError(lang, e)));
  }, [tick]);
  const active = (runs ?? []).some((r) => r.state === 'queued' || r.state === 'running');
  useEffect(() => {
    if (!active) return undefined;
    const timer = setTimeout(() => setTick((n) => n + 1), refreshMillis);
    return () => clearTimeout(timer);
  }, [active, tick]);

  const act = async (run: Run, what: 'cancel' | 'retry') => {
    setError('');
    try {
      await api('POST', `/api/v1/analysis/runs/${run.id}/${what}`, {});
      setNotice(t(what === 'cancel' ? 'runCancelRequested' : 'runRetried', { id: run.id }));
      setTick((n) => n + 1);
    } catch (e) {
      setError(describeError(lang, e));
    }
  };
  const showLog = async (run: Run) => {
    setError('');
    try {
      const r = await api<{ log: string }>('GET', `/api/v1/analysis/runs/${run.id}/log`);
      setLog({ id: run.id, text: r.log });
    } catch (e) {
      setError(describeError(lang, e));
    }
  };

  return (
    <>
      <StartForm
        candidates={candidates}
        references={references}
        onStarted={(id) => {
          setNotice(t('runStarted', { id }));
          setTick((n) => n + 1);
        }}
      />
      <section className="card" aria-labelledby="h-runs">
        <h2 id="h-runs">{t('runsTitle')}</h2>
        {notice && <p role="status" data-testid="runs-notice">{notice}</p>}
        {error && <p role="alert">{error}</p>}
        {runs && runs.length === 0 && <p>{t('runsEmpty')}</p>}
        {runs && runs.length > 0 && (
          <div className="table-scroll">
            <table data-testid="runs-table">
              <caption>{t('runsTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('runId')}</th>
                  <th scope="col">{t('runSpecimens')}</th>
                  <th scope="col">{t('runPipeline')}</th>
                  <th scope="col">{t('runReference')}</th>
                  <th scope="col">{t('runExecutor')}</th>
                  <th scope="col">{t('runState')}</th>
                  <th scope="col">{t('runTimes')}</th>
                  <th scope="col">{t('runActions')}</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} data-run={r.id} data-state={r.state}>
                    <th scope="row">{r.id}</th>
                    <td>
                      {r.specimen_id}
                      {r.normal_specimen_id && (
                        <>
                          {' '}
                          <span className="muted">
                            ({t('runTumour')}) + {r.normal_specimen_id} ({t('runNormal')})
                          </span>
                        </>
                      )}
                    </td>
                    <td>
                      {r.pipeline} {r.version}
                    </td>
                    <td>{r.reference}</td>
                    <td>
                      {r.executor}
                      {r.node && <span className="muted"> {r.node}</span>}
                    </td>
                    <td data-testid="run-state">
                      {t(`runState_${r.state}` as TextKey)}
                      {r.state === 'running' && ` · ${t('runStepOf', { k: Math.min(r.step + 1, r.steps), n: r.steps })}`}
                      {r.state === 'succeeded' && ` · ${t('runStepOf', { k: r.steps, n: r.steps })}`}
                      {r.attempt > 1 && <span className="muted"> · {t('runAttempt', { n: r.attempt })}</span>}
                      {r.error && <div className="flag" data-testid="run-error">{errorMessage(lang, r.error.code)}</div>}
                    </td>
                    <td>
                      {r.started_at ?? '—'}
                      <br />
                      {r.ended_at ?? ''}
                    </td>
                    <td className="actions">
                      {isAnalyst && (
                        <button type="button" onClick={() => showLog(r)} aria-label={`${t('runLog')} ${r.id}`}>
                          {t('runLog')}
                        </button>
                      )}
                      {r.state === 'succeeded' && (
                        <a href={`/api/v1/analysis/runs/${r.id}/provenance`} download={`${r.id}-provenance.jsonld`} aria-label={`${t('runProvenance')} ${r.id}`}>
                          {t('runProvenance')}
                        </a>
                      )}
                      {(r.state === 'queued' || r.state === 'running') && (
                        <button type="button" onClick={() => act(r, 'cancel')} aria-label={`${t('runCancel')} ${r.id}`}>
                          {t('runCancel')}
                        </button>
                      )}
                      {r.state === 'failed' && (
                        <button type="button" onClick={() => act(r, 'retry')} aria-label={`${t('runRetry')} ${r.id}`}>
                          {t('runRetry')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {log && (
        <section className="card" aria-labelledby="h-run-log">
          <h2 id="h-run-log">
            {t('runLog')} {log.id}
          </h2>
          <pre data-testid="run-log" tabIndex={0}>{log.text || '—'}</pre>
        </section>
      )}
    </>
  );
}

function StartForm({ candidates, references, onStarted }: {
  candidates: Candidate[];
  references: Reference[];
  onStarted: (id: string) => void;
}) {
  const { t, lang } = useI18n();
  const [pipeline, setPipeline] = useState(0);
  const [specimen, setSpecimen] = useState('');
  const [normal, setNormal] = useState('');
  const [reference, setReference] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const p = pipelines[pipeline];
  const tumours = p.pair ? candidates.filter((c) => c.tumour_normal === 'tumour') : candidates;
  const chosen = candidates.find((c) => c.specimen_id === specimen);
  // The normal of a pair: a normal specimen of the tumour's participant.
  const normals = candidates.filter((c) => c.tumour_normal === 'normal' && (!chosen || c.participant_id === chosen.participant_id));
  const ref = reference || references[0]?.name || '';
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const body: Record<string, string> = { specimen_id: specimen, reference: ref, pipeline: p.name, version: p.version };
      if (p.pair) body.normal_specimen_id = normal;
      const run = await api<Run>('POST', '/api/v1/analysis/runs', body);
      setSpecimen('');
      setNormal('');
      onStarted(run.id);
    } catch (err) {
      setError(describeError(lang, err));
    } finally {
      setBusy(false);
    }
  };
  const label = (c: Candidate) => `${c.specimen_id} · ${c.participant_id} · ${t(c.tumour_normal === 'tumour' ? 'runTumour' : 'runNormal')}`;
  return (
    <section className="card" aria-labelledby="h-run-start">
      <h2 id="h-run-start">{t('runStartTitle')}</h2>
      <form onSubmit={submit} className="form-grid">
        <label>
          {t('runPipeline')}
          <select value={pipeline} data-testid="run-pipeline" onChange={(e) => {
            setPipeline(Number(e.target.value));
            setSpecimen('');
            setNormal('');
          }}>
            {pipelines.map((x, i) => (
              <option key={x.name} value={i}>
                {x.name} {x.version} ({t(x.pair ? 'runPairPipeline' : 'runSinglePipeline')})
              </option>
            ))}
          </select>
        </label>
        <label>
          {p.pair ? t('runTumourSpecimen') : t('runSpecimen')}
          <select value={specimen} required data-testid="run-specimen" onChange={(e) => setSpecimen(e.target.value)}>
            <option value="">{t('runChoose')}</option>
            {tumours.map((c) => (
              <option key={c.specimen_id} value={c.specimen_id}>
                {label(c)}
              </option>
            ))}
          </select>
        </label>
        {p.pair && (
          <label>
            {t('runNormalSpecimen')}
            <select value={normal} required data-testid="run-normal" onChange={(e) => setNormal(e.target.value)}>
              <option value="">{t('runChoose')}</option>
              {normals.map((c) => (
                <option key={c.specimen_id} value={c.specimen_id}>
                  {label(c)}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('runReference')}
          <select value={ref} onChange={(e) => setReference(e.target.value)}>
            {references.map((r) => (
              <option key={r.name} value={r.name}>
                {r.name} ({r.sha256.slice(0, 12)}…)
              </option>
            ))}
          </select>
        </label>
        {error && <p role="alert">{error}</p>}
        <div>
          <button type="submit" className="primary" disabled={busy || !specimen || !ref}>
            {t('runStart')}
          </button>
        </div>
      </form>
      {candidates.length === 0 && <p className="muted">{t('runNoCandidates')}</p>}
    </section>
  );
}
