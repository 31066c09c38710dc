// Calls to zengen's JSON API (docs/api.md). The session cookie is sent by the browser; every
// state-changing call of a session carries the CSRF token in X-CSRF-Token.

export interface ApiProblem {
  path: string;
  code: string;
  message: { ja: string; en: string };
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
    public problems: ApiProblem[] = [],
  ) {
    super(message);
  }
}

let csrfToken = '';
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await resp.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!resp.ok) {
    const e = json?.error ?? {};
    throw new ApiError(resp.status, e.code ?? 'http_error', e.message ?? `HTTP ${resp.status}`, e.field, json?.problems ?? []);
  }
  return json as T;
}

// Sends a non-JSON body (CSV import) with upload progress, which fetch cannot report.
export function upload(path: string, body: Blob, contentType: string, onProgress: (fraction: number) => void): Promise<any> {
  return sendBytes('POST', path, body, contentType, onProgress);
}

// Sends bytes (a CSV file, an upload chunk) with upload progress; resolves with the JSON answer
// (null for 204), rejects with an ApiError (status 0 and code network_error when the connection
// failed: the caller may retry).
export function sendBytes(method: string, path: string, body: Blob, contentType: string, onProgress: (fraction: number) => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.setRequestHeader('Content-Type', contentType);
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    };
    xhr.onload = () => {
      let json: any = null;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        json = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(json);
      } else {
        const e = json?.error ?? {};
        reject(new ApiError(xhr.status, e.code ?? 'http_error', e.message ?? `HTTP ${xhr.status}`, e.field, json?.problems ?? []));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'network error'));
    xhr.onabort = () => reject(new ApiError(0, 'network_error', 'aborted'));
    xhr.send(body);
  });
}

export interface SessionInfo {
  user: string;
  organisation: string;
  roles: string[];
  mfa_passed: boolean;
  mfa_enrolled?: boolean;
  csrf_token?: string;
}
