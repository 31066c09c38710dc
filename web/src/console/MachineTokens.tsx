// Machine tokens (issue 14): the steward issues a token for an organisation and one role,
// limited to the operations listed, sees it once and revokes it after a confirmation; the
// security officer reads the list. /console/machine-tokens.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { codeLabel, describeError, roles as roleLabels } from '../codes';
import { useI18n } from '../i18n';
import { ConfirmDialog, FormCard, ListCard, useStatus } from './blocks';

interface MachineToken {
  id: string;
  name: string;
  organisation: string;
  role: string;
  actions: string[];
  created_by: string;
  created_at: string;
  expires_ms: number;
  revoked: boolean;
  user?: string | null; // a person's own data-access token: not listed here
}
interface Org {
  id: string;
  name: string;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function MachineTokensPage({ session }: { session: SessionInfo }) {
  const { t, lang } = useI18n();
  const steward = session.roles.includes('data_steward');
  const [tokens, setTokens] = useState<MachineToken[] | null>(null);
  const [orgs, setOrgs] = useState<Org[]>([]);
  const [form, setForm] = useState({ name: '', organisation: session.organisation, role: 'data_steward', actions: '', days: '30' });
  const [created, setCreated] = useState<{ id: string; token: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const load = () =>
    api<{ items: MachineToken[] }>('GET', '/api/v1/admin/tokens')
      .then((r) => setTokens(r.items.filter((x) => !x.user)))
      .catch((e) => setError(describeError(lang, e)));
  const { message, error, setError, act } = useStatus(load);
  useEffect(() => {
    load();
    api<{ items: Org[] }>('GET', '/api/v1/admin/organisations')
      .then((r) => setOrgs(r.items))
      .catch(() => setOrgs([]));
  }, []);
  const now = Date.now();
  const stateOf = (x: MachineToken) => (x.revoked ? 'revoked' : x.expires_ms <= now ? 'expired' : 'active');
  const stateText = { active: t('tokenActive'), revoked: t('tokenRevoked'), expired: t('tokenExpired') };
  const columns = [t('id'), t('tokenNameLabel'), t('organisation'), t('tokenRole'), t('tokenActionsShort'), t('tokenCreatedBy'), t('tokenExpires'), t('tokenState')];
  return (
    <div className="admin">
      <ListCard headingId="h-machine-tokens" title={t('navMachineTokens')} count={tokens?.length ?? null} intro={t('machineTokensIntro')}
        statusTestId="machine-tokens-status" message={message} error={error} emptyText={t('noMachineTokens')}
        tableTestId="machine-tokens-table" columns={steward ? [...columns, t('action')] : columns}>
        {tokens?.map((x) => (
          <tr key={x.id} data-token={x.id} data-state={stateOf(x)}>
            <td>
              <code>{x.id}</code>
            </td>
            <td>{x.name}</td>
            <td>{x.organisation}</td>
            <td>{codeLabel(roleLabels, lang, x.role)}</td>
            <td>
              {x.actions.map((a) => (
                <code key={a}>{a} </code>
              ))}
            </td>
            <td>{x.created_by}</td>
            <td>{day(x.expires_ms)}</td>
            <td data-testid="token-state">{stateText[stateOf(x)]}</td>
            {steward && (
              <td className="row-actions">
                {confirming === x.id ? (
                  <ConfirmDialog labelId={`revoke-${x.id}`} testId="token-confirm" text={t('confirmRevokeToken', { name: x.name, id: x.id })}
                    confirmLabel={t('revokeToken')} onCancel={() => setConfirming(null)} onConfirm={() => {
                      setConfirming(null);
                      act(async () => {
                        await api('POST', `/api/v1/admin/tokens/${encodeURIComponent(x.id)}/revoke`);
                        return t('machineTokenRevoked', { id: x.id });
                      });
                    }} />
                ) : (
                  !x.revoked && (
                    <button type="button" aria-label={`${t('revokeToken')} ${x.name}`} onClick={() => setConfirming(x.id)}>
                      {t('revokeToken')}
                    </button>
                  )
                )}
              </td>
            )}
          </tr>
        ))}
      </ListCard>
      {steward && (
        <FormCard testId="issue-machine-token" title={t('issueMachineToken')} submitLabel={t('issueMachineToken')}
          onSubmit={() => {
            setCreated(null);
            act(async () => {
              const r = await api<{ id: string; token: string }>('POST', '/api/v1/admin/tokens', {
                name: form.name,
                organisation: form.organisation,
                role: form.role,
                actions: form.actions.split(/[\s,、]+/).filter(Boolean),
                days: Number(form.days),
              });
              setCreated({ id: r.id, token: r.token });
              return '';
            });
          }}
          after={created && (
            <div className="created" data-testid="machine-token-created">
              <p>{t('machineTokenShownOnce')}</p>
              <code data-testid="machine-token-value">{created.token}</code>
            </div>
          )}>
          <label>
            {t('tokenNameLabel')}
            <input required maxLength={200} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            {t('organisation')}
            <select required value={form.organisation} onChange={(e) => setForm({ ...form, organisation: e.target.value })}>
              {orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name} ({o.id})
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('tokenRole')}
            <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
              {Object.keys(roleLabels).map((r) => (
                <option key={r} value={r}>
                  {codeLabel(roleLabels, lang, r)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('tokenActionsLabel')}
            <input required value={form.actions} onChange={(e) => setForm({ ...form, actions: e.target.value })} />
          </label>
          <label>
            {t('tokenDaysLabel')}
            <input type="number" required min={1} max={366} value={form.days} onChange={(e) => setForm({ ...form, days: e.target.value })} />
          </label>
        </FormCard>
      )}
    </div>
  );
}
