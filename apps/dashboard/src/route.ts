// Hash routes (#/workers/w-01): the gateway serves one static page, so every view is addressable
// and reloadable without server-side routing.
import { useEffect, useState } from 'react';

export type Route = { view: 'overview' } | { view: 'workers' } | { view: 'worker'; name: string } | { view: 'upgrades' } | { view: 'calls' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'workers' && parts[1]) return { view: 'worker', name: parts[1] };
  if (parts[0] === 'workers') return { view: 'workers' };
  if (parts[0] === 'upgrades') return { view: 'upgrades' };
  if (parts[0] === 'calls') return { view: 'calls' };
  return { view: 'overview' };
}

export const hrefOf = (r: Route): string => (r.view === 'worker' ? `#/workers/${encodeURIComponent(r.name)}` : r.view === 'overview' ? '#/' : `#/${r.view}`);

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
