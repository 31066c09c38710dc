// Shared console blocks (administration pages: Admin, Groups, MachineTokens, IcfVersions):
// - ConfirmDialog: a destructive action waits for a confirmation naming what follows, and, for
//   an action on an account, for a reason (required, not only white space; the server checks
//   the same and keeps it in the audit record);
// - ListCard: a page's list — heading with the count, introduction, status line, error, the
//   empty text, then the table;
// - FormCard: a form card with its heading and submit button;
// - useStatus: the status line and error of a page, and `act` to run a request between them.
import { useState, type ReactNode } from 'react';
import { describeError, errorMessage } from '../codes';
import { useI18n } from '../i18n';

export function ConfirmDialog({ labelId, testId, text, confirmLabel, withReason, onConfirm, onCancel }: {
  labelId: string; // id of the paragraph that names the action (the dialog's label)
  testId: string;
  text: string;
  confirmLabel: string;
  withReason?: boolean;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}) {
  const { t, lang } = useI18n();
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState('');
  const errorId = `${labelId}-reason-error`;
  return (
    <div role="alertdialog" aria-labelledby={labelId} className="confirm" data-testid={testId}>
      <p id={labelId}>{text}</p>
      {withReason && (
        <label>
          {t('actionReason')}
          <textarea required maxLength={1000} rows={2} value={reason} placeholder={t('actionReasonHint')}
            aria-invalid={reasonError ? true : undefined} aria-describedby={reasonError ? errorId : undefined}
            onChange={(e) => setReason(e.target.value)} />
        </label>
      )}
      {reasonError && (
        <p role="alert" className="error" id={errorId}>
          {reasonError}
        </p>
      )}
      <button type="button" className="danger" onClick={() => {
        if (withReason && !reason.replace(/[\s\u3000]/g, '')) {
          setReasonError(errorMessage(lang, 'missing_field', 'reason'));
          return;
        }
        onConfirm(reason);
      }}>
        {confirmLabel}
      </button>
      <button type="button" onClick={onCancel}>
        {t('cancel')}
      </button>
    </div>
  );
}

export function ListCard({ headingId, title, count, intro, statusTestId, message, error, emptyText, tableTestId, columns, children }: {
  headingId: string;
  title: string;
  count: number | null; // null: still loading (no table, no empty text)
  intro: string;
  statusTestId?: string; // with it, a status line (role="status") shows message
  message?: string;
  error: string;
  emptyText?: string;
  tableTestId: string;
  columns: ReactNode[]; // the header cells' contents
  children: ReactNode; // the rows
}) {
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {title} ({count ?? 0})
      </h2>
      <p className="muted">{intro}</p>
      {statusTestId && (
        <p role="status" data-testid={statusTestId}>
          {message}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {count === 0 && emptyText && <p className="muted">{emptyText}</p>}
      {count !== null && count > 0 && (
        <div className="table-wrap">
          <table data-testid={tableTestId} aria-labelledby={headingId}>
            <thead>
              <tr>
                {columns.map((c, i) => (
                  <th key={i} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{children}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function FormCard({ testId, title, submitLabel, onSubmit, children, after }: {
  testId: string;
  title: string;
  submitLabel: string;
  onSubmit: () => void;
  children: ReactNode; // the fields
  after?: ReactNode; // shown below the button (e.g. a value shown once)
}) {
  return (
    <form className="card" data-testid={testId} onSubmit={(e) => {
      e.preventDefault();
      onSubmit();
    }}>
      <h3>{title}</h3>
      {children}
      <button type="submit">{submitLabel}</button>
      {after}
    </form>
  );
}

// A page's status line and error. act(f) clears both, runs f (a request returning the status
// text, or '' to leave it empty), then reload; a failure is described in the reader's language.
export function useStatus(reload: () => Promise<unknown> | void) {
  const { lang } = useI18n();
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const act = async (f: () => Promise<string>) => {
    setError('');
    setMessage('');
    try {
      const done = await f();
      await reload();
      setMessage(done);
    } catch (e) {
      setError(describeError(lang, e));
    }
  };
  return { message, setMessage, error, setError, act };
}
