// The console's URLs: every page and record has its own path, so a link can be shared, a
// reload keeps the place and Back returns to the previous one. navigate() pushes a history
// entry and tells every usePath() hook; the guard (set by a form with unsaved changes) may
// refuse to leave.
import { useEffect, useState } from 'react';

type Guard = (to: string) => boolean;
let guard: Guard | null = null;

// A form with unsaved changes registers a guard; given the path about to be opened, it returns
// false to stay on the page.
export function setLeaveGuard(g: Guard | null): void {
  guard = g;
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname + window.location.search) return;
  if (guard && !guard(path)) return;
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return path;
}

// The parts of a console path after /console: "/console/participants/ZG-1/diagnosis" →
// ["participants", "ZG-1", "diagnosis"].
export function consoleParts(path: string): string[] {
  return path
    .replace(/^\/console\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
}

export function consolePath(...parts: string[]): string {
  return ['/console', ...parts.filter(Boolean).map((p) => encodeURIComponent(p))].join('/');
}

// Sets the document title to "<title> | <suffix>" while the component is shown.
// An empty suffix leaves the title to a component further down.
export function useTitle(title: string, suffix: string): void {
  useEffect(() => {
    if (!suffix) return;
    document.title = title ? `${title} | ${suffix}` : suffix;
  }, [title, suffix]);
}

// An <a> click that stays in the single-page application (modifier clicks open a new tab).
export function linkClick(path: string) {
  return (ev: { preventDefault: () => void; ctrlKey?: boolean; metaKey?: boolean; shiftKey?: boolean; button?: number }) => {
    if (ev.ctrlKey || ev.metaKey || ev.shiftKey || (ev.button ?? 0) !== 0) return;
    ev.preventDefault();
    navigate(path);
  };
}
