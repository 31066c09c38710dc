// Research groups (研究班, issue 14): the steward creates a group and adds members from any
// organisation, and removes a member after a confirmation; the security officer reads them.
// /console/groups.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { describeError } from '../codes';
import { useI18n } from '../i18n';
import { ConfirmDialog, FormCard, ListCard, useStatus } from './blocks';

interface Group {
  id: string;
  name: string;
  members: string[];
}
interface UserRow {
  id: string;
  organisation: string;
}

export function GroupsPage({ session }: { session: SessionInfo }) {
  const { t, lang } = useI18n();
  const steward = session.roles.includes('data_steward');
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [users, setUsers] = useState<UserRow[]>([]);
  const [newGroup, setNewGroup] = useState({ id: '', name: '' });
  const [member, setMember] = useState({ group: '', user: '' });
  // Removing a member waits for a confirmation naming the member and the group.
  const [leaving, setLeaving] = useState<{ group: string; user: string } | null>(null);
  const load = () =>
    api<{ items: Group[] }>('GET', '/api/v1/admin/groups')
      .then((r) => setGroups(r.items))
      .catch((e) => setError(describeError(lang, e)));
  const { message, error, setError, act } = useStatus(load);
  useEffect(() => {
    load();
    api<{ items: UserRow[] }>('GET', '/api/v1/admin/users')
      .then((r) => setUsers(r.items))
      .catch(() => setUsers([]));
  }, []);
  const orgOf = (id: string) => users.find((u) => u.id === id)?.organisation;
  const memberText = (m: string) => (orgOf(m) ? `${m} (${orgOf(m)})` : m);
  return (
    <div className="admin">
      <ListCard headingId="h-groups" title={t('navGroups')} count={groups?.length ?? null} intro={t('groupsIntro')}
        statusTestId="groups-status" message={message} error={error} emptyText={t('noGroups')}
        tableTestId="groups-table" columns={[t('id'), t('groupName'), t('groupMembers')]}>
        {groups?.map((g) => (
          <tr key={g.id} data-group={g.id}>
            <td>{g.id}</td>
            <td>{g.name}</td>
            <td>
              {g.members.length === 0
                ? t('noMembers')
                : !steward
                  ? g.members.map(memberText).join('、')
                  : g.members.map((m, i) => (
                      <span key={m} data-member={m}>
                        {i > 0 && '、'}
                        {memberText(m)}
                        {leaving?.group === g.id && leaving.user === m ? (
                          <ConfirmDialog labelId={`leave-${g.id}-${m}`} testId="member-confirm"
                            text={t('confirmRemoveMember', { user: m, group: g.id })} confirmLabel={t('removeMember')}
                            onCancel={() => setLeaving(null)} onConfirm={() => {
                              setLeaving(null);
                              act(async () => {
                                await api('POST', `/api/v1/admin/groups/${encodeURIComponent(g.id)}/members/${encodeURIComponent(m)}/remove`);
                                return t('memberRemoved', { user: m, group: g.id });
                              });
                            }} />
                        ) : (
                          <button type="button" className="small" aria-label={t('removeMemberNamed', { user: m, group: g.id })}
                            onClick={() => setLeaving({ group: g.id, user: m })}>
                            {t('removeMember')}
                          </button>
                        )}
                      </span>
                    ))}
            </td>
          </tr>
        ))}
      </ListCard>
      {steward && (
        <FormCard testId="create-group" title={t('createGroup')} submitLabel={t('create')} onSubmit={() =>
          act(async () => {
            const g = await api<Group>('POST', '/api/v1/admin/groups', newGroup);
            setNewGroup({ id: '', name: '' });
            return t('groupCreated', { id: g.id });
          })
        }>
          <label>
            {t('groupId')}
            <input required maxLength={64} pattern="[a-z0-9][a-z0-9._\-]{1,63}" value={newGroup.id} onChange={(e) => setNewGroup({ ...newGroup, id: e.target.value })} />
          </label>
          <label>
            {t('groupName')}
            <input required maxLength={200} value={newGroup.name} onChange={(e) => setNewGroup({ ...newGroup, name: e.target.value })} />
          </label>
        </FormCard>
      )}
      {steward && groups && groups.length > 0 && (
        <FormCard testId="add-member" title={t('addMember')} submitLabel={t('addMember')} onSubmit={() =>
          act(async () => {
            await api('POST', `/api/v1/admin/groups/${encodeURIComponent(member.group)}/members`, { user: member.user });
            return t('memberAdded', { user: member.user, group: member.group });
          })
        }>
          <label>
            {t('group')}
            <select required value={member.group} onChange={(e) => setMember({ ...member, group: e.target.value })}>
              <option value="">{t('runChoose')}</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name} ({g.id})
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('addRoleUser')}
            <select required value={member.user} onChange={(e) => setMember({ ...member, user: e.target.value })}>
              <option value="">{t('runChoose')}</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.id} ({u.organisation})
                </option>
              ))}
            </select>
          </label>
        </FormCard>
      )}
    </div>
  );
}
