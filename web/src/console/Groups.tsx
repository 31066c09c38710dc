// Research groups (研究班, issue 14): the steward creates a group and adds members from any
// organisation; the security officer reads them. /console/groups.
import { useEffect, useState } from 'react';
import { api, type SessionInfo } from '../api';
import { describeError } from '../codes';
import { useI18n } from '../i18n';

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
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [newGroup, setNewGroup] = useState({ id: '', name: '' });
  const [member, setMember] = useState({ group: '', user: '' });
  const load = () =>
    api<{ items: Group[] }>('GET', '/api/v1/admin/groups')
      .then((r) => setGroups(r.items))
      .catch((e) => setError(describeError(lang, e)));
  useEffect(() => {
    load();
    api<{ items: UserRow[] }>('GET', '/api/v1/admin/users')
      .then((r) => setUsers(r.items))
      .catch(() => setUsers([]));
  }, []);
  const act = async (f: () => Promise<string>) => {
    setError('');
    setMessage('');
    try {
      const done = await f();
      await load();
      setMessage(done);
    } catch (e) {
      setError(describeError(lang, e));
    }
  };
  const orgOf = (id: string) => users.find((u) => u.id === id)?.organisation;
  return (
    <div className="admin">
      <section className="card" aria-labelledby="h-groups">
        <h2 id="h-groups">
          {t('navGroups')} ({groups?.length ?? 0})
        </h2>
        <p className="muted">{t('groupsIntro')}</p>
        <p role="status" data-testid="groups-status">
          {message}
        </p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {groups && groups.length === 0 && <p className="muted">{t('noGroups')}</p>}
        {groups && groups.length > 0 && (
          <div className="table-wrap">
            <table data-testid="groups-table" aria-labelledby="h-groups">
              <thead>
                <tr>
                  <th scope="col">{t('id')}</th>
                  <th scope="col">{t('groupName')}</th>
                  <th scope="col">{t('groupMembers')}</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.id} data-group={g.id}>
                    <td>{g.id}</td>
                    <td>{g.name}</td>
                    <td>
                      {g.members.length === 0
                        ? t('noMembers')
                        : g.members.map((m) => (orgOf(m) ? `${m} (${orgOf(m)})` : m)).join('、')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {steward && (
        <form className="card" data-testid="create-group" onSubmit={(e) => {
          e.preventDefault();
          act(async () => {
            const g = await api<Group>('POST', '/api/v1/admin/groups', newGroup);
            setNewGroup({ id: '', name: '' });
            return t('groupCreated', { id: g.id });
          });
        }}>
          <h3>{t('createGroup')}</h3>
          <label>
            {t('groupId')}
            <input required maxLength={64} pattern="[a-z0-9][a-z0-9._\-]{1,63}" value={newGroup.id} onChange={(e) => setNewGroup({ ...newGroup, id: e.target.value })} />
          </label>
          <label>
            {t('groupName')}
            <input required maxLength={200} value={newGroup.name} onChange={(e) => setNewGroup({ ...newGroup, name: e.target.value })} />
          </label>
          <button type="submit">{t('create')}</button>
        </form>
      )}
      {steward && groups && groups.length > 0 && (
        <form className="card" data-testid="add-member" onSubmit={(e) => {
          e.preventDefault();
          act(async () => {
            await api('POST', `/api/v1/admin/groups/${encodeURIComponent(member.group)}/members`, { user: member.user });
            return t('memberAdded', { user: member.user, group: member.group });
          });
        }}>
          <h3>{t('addMember')}</h3>
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
          <button type="submit">{t('addMember')}</button>
        </form>
      )}
    </div>
  );
}
