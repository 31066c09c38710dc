// Test support: starts a real zengen holding the demo cohort, computes TOTP codes, and runs
// axe-core in a page.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

// `zengen demo` in a temporary directory on a free port; resolves once it serves.
export async function startZengen() {
  const binary = process.env.ZENGEN_BINARY ?? join(repoRoot, 'build', 'zengen');
  const dir = mkdtempSync(join(tmpdir(), 'zengen-web-test-'));
  const child = spawn(binary, ['demo', '--data', join(dir, 'demo'), '--listen', '127.0.0.1:0'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
  });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`zengen did not start in 240 s:\n${out}\n${log.slice(-4000)}`)), 240_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /zengen: serving (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`zengen exited with ${code}:\n${out}\n${log.slice(-4000)}`));
    });
  });
  return {
    url,
    // The demo's data directory and the binary (for command-line steps such as `reference add`).
    dataDir: join(dir, 'demo'),
    binary,
    log: () => log,
    // The one-time MFA enrolment code `zengen demo` printed for a demo user.
    async enrolmentCode(user) {
      const line = new RegExp(`^\\s+${user}\\s+.*enrolment code (\\S+)$`, 'm');
      for (let i = 0; i < 100; i++) {
        const m = line.exec(out);
        if (m) return m[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no enrolment code printed for ${user}:\n${out}`);
    },
    async stop() {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238 (HMAC-SHA-1, 30-second steps, 6 digits), as src/crypto/totp.h.
export function totp(secret, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The rules about labels, names and keyboard access that must report nothing.
export const labelAndKeyboardRules = [
  'label', 'label-title-only', 'form-field-multiple-labels', 'select-name', 'button-name',
  'input-button-name', 'aria-input-field-name', 'aria-toggle-field-name', 'link-name',
  'scrollable-region-focusable', 'tabindex', 'accesskeys', 'nested-interactive',
  'aria-command-name', 'frame-focusable-content', 'focus-order-semantics', 'aria-hidden-focus',
  'role-img-alt', 'svg-img-alt', 'document-title', 'html-has-lang', 'valid-lang',
];

// Runs axe-core in the page (evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern) and returns every violation.
export async function runAxe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
}
