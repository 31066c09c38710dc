// Password, then TOTP: verification for an enrolled account, or enrolment — with the one-time
// enrolment code an administrator handed over out of band — with a QR code (the otpauth URI
// from the server drawn on a canvas) followed by the recovery codes.
import { useEffect, useRef, useState } from 'react';
import QRCode from 'qrcode';
import { api, ApiError, setCsrfToken, type SessionInfo } from '../api';
import { useI18n } from '../i18n';

type Step = 'password' | 'verify' | 'enrolmentCode' | 'enrol' | 'recovery';

export function Login({ onDone }: { onDone: (s: SessionInfo) => void }) {
  const { t } = useI18n();
  const [step, setStep] = useState<Step>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [enrolmentCode, setEnrolmentCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [recovery, setRecovery] = useState<string[]>([]);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (enrolment && canvas.current) {
      QRCode.toCanvas(canvas.current, enrolment.otpauth_uri, { width: 200, margin: 1 }).catch(() => undefined);
    }
  }, [enrolment, step]);

  const finish = async () => onDone(await api<SessionInfo>('GET', '/api/v1/auth/session'));

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError('');
    try {
      await f();
    } catch (e) {
      const err = e as ApiError;
      const known: Record<string, Parameters<typeof t>[0]> = {
        invalid_credentials: 'invalidCredentials',
        invalid_code: 'invalidCode',
        enrolment_code_invalid: 'enrolmentCodeInvalid',
        enrolment_code_expired: 'enrolmentCodeExpired',
      };
      setError(known[err.code] ? t(known[err.code]) : err.message);
    } finally {
      setBusy(false);
    }
  };

  const submitPassword = (ev: React.FormEvent) => {
    ev.preventDefault();
    run(async () => {
      const r = await api<{ csrf_token: string; next: string }>('POST', '/api/v1/auth/login', { username, password });
      setCsrfToken(r.csrf_token);
      setPassword('');
      if (r.next === 'done') return finish();
      if (r.next === 'verify_mfa') return setStep('verify');
      setStep('enrolmentCode');
    });
  };
  const submitEnrolmentCode = (ev: React.FormEvent) => {
    ev.preventDefault();
    run(async () => {
      setEnrolment(await api<{ secret: string; otpauth_uri: string }>('POST', '/api/v1/auth/mfa/enrol', { enrolment_code: enrolmentCode }));
      setEnrolmentCode('');
      setStep('enrol');
    });
  };
  const submitCode = (ev: React.FormEvent) => {
    ev.preventDefault();
    run(async () => {
      if (step === 'verify') {
        await api('POST', '/api/v1/auth/mfa/verify', { code });
        return finish();
      }
      const r = await api<{ recovery_codes: string[] }>('POST', '/api/v1/auth/mfa/confirm', { code });
      setRecovery(r.recovery_codes);
      setStep('recovery');
    });
  };

  return (
    <div className="login card">
      {step === 'password' && (
        <form onSubmit={submitPassword} aria-labelledby="h-login">
          <h1 id="h-login">{t('login')}</h1>
          <label>
            {t('username')}
            <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
          </label>
          <label>
            {t('password')}
            <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <button type="submit" disabled={busy}>
            {t('login')}
          </button>
        </form>
      )}
      {step === 'enrolmentCode' && (
        <form onSubmit={submitEnrolmentCode} aria-labelledby="h-enrolment-code">
          <h1 id="h-enrolment-code">{t('enrolTitle')}</h1>
          <p id="enrolment-code-help">{t('enrolmentCodeHelp')}</p>
          <label>
            {t('enrolmentCode')}
            <input name="enrolment_code" autoComplete="off" spellCheck={false} aria-describedby="enrolment-code-help" required value={enrolmentCode} onChange={(e) => setEnrolmentCode(e.target.value)} />
          </label>
          <button type="submit" disabled={busy}>
            {t('next')}
          </button>
        </form>
      )}
      {(step === 'verify' || step === 'enrol') && (
        <form onSubmit={submitCode} aria-labelledby="h-mfa">
          <h1 id="h-mfa">{step === 'enrol' ? t('enrolTitle') : t('totpCode')}</h1>
          {step === 'enrol' && enrolment && (
            <>
              <p>{t('enrolHelp')}</p>
              <canvas ref={canvas} role="img" aria-label={t('qrLabel')} data-testid="totp-qr" />
              <p>
                {t('secretLabel')}: <code data-testid="totp-secret">{enrolment.secret}</code>
              </p>
            </>
          )}
          <label>
            {t('totpCode')}
            <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required value={code} onChange={(e) => setCode(e.target.value.trim())} />
          </label>
          <button type="submit" disabled={busy}>
            {t('verify')}
          </button>
        </form>
      )}
      {step === 'recovery' && (
        <div>
          <h1>{t('recoveryTitle')}</h1>
          <ul className="codes">
            {recovery.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => run(finish)}>
            {t('continue')}
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
