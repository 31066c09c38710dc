// Grants (issue 6): researchers see their own, the committee and stewards all of them; a
// steward revokes one with a reason (effective on the next request). Personal data-access
// tokens: a researcher makes one for samtools/bcftools, sees it once, and copies an
// HTS_AUTH_LOCATION example pointing at htsget for a file they may read.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { useI18n } from '../i18n';
import { label } from '../labels';
import { purposeText, type DatasetRow, type Grant } from './Applications';
import { errorWords, grantStatuses, tracks, useSharingText } from './sharingText';

const time = (s: string | null | undefined) => (s ? s.slice(0, 16).replace('T', ' ') : '—');

export function GrantsPage({ session }: { session: SessionInfo }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [items, setItems] = useState<Grant[] | null>(null);
  const [datasets, setDatasets] = useState<DatasetRow[]>([]);
  const [error, setError] = useState('');
  const steward = session.roles.includes('data_steward');
  const load = () =>
    api<{ items: Grant[] }>('GET', '/api/v1/grants')
      .then((r) => setItems(r.items))
      .catch((e) => setError(errorWords(lang, e)));
  useEffect(() => {
    load();
    api<{ items: DatasetRow[] }>('GET', '/api/v1/datasets')
      .then((r) => setDatasets(r.items))
      .catch(() => setDatasets([]));
  }, []);
  const dsName = (id: string) => datasets.find((d) => d.id === id)?.name[lang] ?? id;
  return (
    <section className="card" aria-labelledby="h-grants">
      <h2 id="h-grants">
        {s('grants')} ({items?.length ?? 0})
      </h2>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {items && items.length === 0 && <p className="muted">{s('noGrants')}</p>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table data-testid="grants-table" aria-labelledby="h-grants">
            <thead>
              <tr>
                <th scope="col">{s('grant')}</th>
                <th scope="col">{s('holder')}</th>
                <th scope="col">{s('track')}</th>
                <th scope="col">{s('datasets')}</th>
                <th scope="col">{s('dataTypes')}</th>
                <th scope="col">{s('purpose')}</th>
                <th scope="col">{s('startsAt')}</th>
                <th scope="col">{s('expiresAt')}</th>
                <th scope="col">{s('status')}</th>
                {steward && <th scope="col">{s('revoke')}</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((g) => (
                <tr key={g.id} data-grant={g.id} data-application={g.application_id} data-status={g.status}>
                  <td className="mono">{g.id}</td>
                  <td>
                    {g.holder} ({g.organisation})
                  </td>
                  <td>{label(tracks, lang, g.track)}</td>
                  <td>{g.datasets.map(dsName).join(', ')}</td>
                  <td>{g.data_types.map((x) => x.toUpperCase()).join(', ')}</td>
                  <td>{purposeText(lang, g.purpose)}</td>
                  <td>{time(g.starts_at)}</td>
                  <td>{time(g.expires_at)}</td>
                  <td>
                    {label(grantStatuses, lang, g.status)}
                    {g.revoke_reason && (
                      <div className="muted">
                        {s('revokedBecause')}: {g.revoke_reason}
                      </div>
                    )}
                  </td>
                  {steward && <td>{g.status !== 'revoked' && <RevokeForm grant={g} onDone={load} />}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {steward && <p className="muted">{s('revokeHelp')}</p>}
    </section>
  );
}

function RevokeForm({ grant, onDone }: { grant: Grant; onDone: () => void }) {
  const s = useSharingText();
  const { lang } = useI18n();
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  return (
    <form
      className="row-actions"
      aria-label={`${s('revoke')} ${grant.id}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        try {
          await api('POST', `/api/v1/grants/${grant.id}/revoke`, { reason });
          onDone();
        } catch (err) {
          setError(errorWords(lang, err));
        }
      }}
    >
      <label>
        {s('revokeReason')}
        <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={2000} />
      </label>
      <button type="submit">{s('revoke')}</button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

interface TokenRow {
  id: string;
  name: string;
  actions: string[];
  created_at: string;
  expires_ms: number;
  revoked: boolean;
}

interface FileRow {
  id: string;
  kind: string;
  data_type: string;
  participant_id: string;
  file_name: string;
}

const tokenActions = ['htsget.read', 'drs.read', 'data.access'];

export function TokensPage() {
  const s = useSharingText();
  const { lang } = useI18n();
  const [tokens, setTokens] = useState<TokenRow[]>([]);
  const [files, setFiles] = useState<FileRow[]>([]);
  const [name, setName] = useState('samtools');
  const [days, setDays] = useState('30');
  const [actions, setActions] = useState<string[]>(tokenActions);
  const [created, setCreated] = useState<string | null>(null);
  const [file, setFile] = useState('');
  const [copied, setCopied] = useState('');
  const [error, setError] = useState('');
  const load = () =>
    api<{ items: TokenRow[] }>('GET', '/api/v1/auth/tokens')
      .then((r) => setTokens(r.items))
      .catch((e) => setError(errorWords(lang, e)));
  useEffect(() => {
    load();
    // Files the caller may read now, for the example: CRAM/BAM through /reads, VCF/BCF /variants.
    (async () => {
      const ds = await api<{ items: DatasetRow[] }>('GET', '/api/v1/datasets');
      const all: FileRow[] = [];
      for (const d of ds.items.filter((x) => x.visible_files > 0)) {
        const r = await api<{ items: FileRow[] }>('GET', `/api/v1/datasets/${d.id}/files`);
        all.push(...r.items.filter((f) => f.data_type !== 'fastq'));
      }
      setFiles(all);
      if (all.length) setFile(all[0].id);
    })().catch(() => setFiles([]));
  }, []);
  const origin = window.location.origin;
  const chosen = files.find((f) => f.id === file);
  const endpoint = chosen && (chosen.kind === 'vcf' || chosen.kind === 'bcf' || chosen.data_type === 'vcf') ? 'variants' : 'reads';
  const tool = endpoint === 'variants' ? 'bcftools view -H' : 'samtools view';
  const url = `${origin}/ga4gh/htsget/v1/${endpoint}/${file || '{file id}'}`;
  const example = [
    `umask 077; printf '%s' '${created ?? 'zgt_…'}' > ~/.zengen-token`,
    `export HTS_AUTH_LOCATION=~/.zengen-token`,
    `${tool} '${url}' | head`,
    `${tool} '${url}?referenceName=chr1&start=0&end=100000' | head`,
  ].join('\n');
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied('');
    }
  };
  return (
    <div className="sharing">
      <form
        className="card"
        aria-labelledby="h-tokens"
        onSubmit={async (e) => {
          e.preventDefault();
          setError('');
          try {
            const r = await api<{ token: string }>('POST', '/api/v1/auth/tokens', { name, actions, days: Number(days) });
            setCreated(r.token);
            load();
          } catch (err) {
            setError(errorWords(lang, err));
          }
        }}
      >
        <h2 id="h-tokens">{s('tokens')}</h2>
        <p className="muted">{s('tokensIntro')}</p>
        <div className="filters">
          <label>
            {s('tokenName')}
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
          </label>
          <label>
            {s('tokenDays')}
            <input type="number" min={1} max={90} value={days} onChange={(e) => setDays(e.target.value)} required />
          </label>
        </div>
        <fieldset className="field">
          <legend>{s('tokenActions')}</legend>
          {tokenActions.map((a) => (
            <label key={a} className="radio">
              <input
                type="checkbox"
                checked={actions.includes(a)}
                onChange={(e) => setActions(e.target.checked ? [...actions, a] : actions.filter((x) => x !== a))}
              />
              <span className="mono">{a}</span>
            </label>
          ))}
        </fieldset>
        <button type="submit" className="primary">
          {s('createToken')}
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
      {created && (
        <section className="card notice" aria-labelledby="h-token-once" data-testid="token-once">
          <h3 id="h-token-once">{s('tokenOnce')}</h3>
          <p className="mono" data-testid="token-value">
            {created}
          </p>
          <button type="button" onClick={() => copy(created, 'token')}>
            {s('copy')}
          </button>
          {copied === 'token' && <span role="status"> {s('copied')}</span>}
        </section>
      )}
      <section className="card" aria-labelledby="h-example">
        <h3 id="h-example">{s('example')}</h3>
        <label>
          {s('exampleFile')}
          <select value={file} onChange={(e) => setFile(e.target.value)}>
            {files.map((f) => (
              <option key={f.id} value={f.id}>
                {f.file_name} ({f.data_type.toUpperCase()}, {f.participant_id})
              </option>
            ))}
          </select>
        </label>
        <pre className="mono" data-testid="token-example" tabIndex={0} aria-label={s('example')}>
          {example}
        </pre>
        <button type="button" onClick={() => copy(example, 'example')}>
          {s('copy')}
        </button>
        {copied === 'example' && <span role="status"> {s('copied')}</span>}
      </section>
      <section className="card" aria-labelledby="h-my-tokens">
        <h3 id="h-my-tokens">{s('myTokens')}</h3>
        <table aria-labelledby="h-my-tokens" data-testid="tokens-table">
          <thead>
            <tr>
              <th scope="col">{s('tokenName')}</th>
              <th scope="col">{s('tokenActions')}</th>
              <th scope="col">{s('expires')}</th>
              <th scope="col">{s('status')}</th>
              <th scope="col">{s('revoke')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td className="mono">{t.actions.join(', ')}</td>
                <td>{time(new Date(t.expires_ms).toISOString())}</td>
                <td>{t.revoked ? s('revoked') : s('active')}</td>
                <td>
                  {!t.revoked && (
                    <button
                      type="button"
                      aria-label={`${s('revoke')} ${t.name} (${t.id})`}
                      onClick={async () => {
                        await api('POST', `/api/v1/auth/tokens/${t.id}/revoke`, {}).catch((e) => setError(errorWords(lang, e)));
                        load();
                      }}
                    >
                      {s('revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
