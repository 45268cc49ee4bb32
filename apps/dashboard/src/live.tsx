// The session: the token (asked once, kept in this browser's localStorage), who it belongs to, and
// the live event stream every view listens to so it updates without a reload.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Api, type FleetEvent, type Whoami } from './api';

const TOKEN_KEY = 'fleetvisor.gateway.token';

interface Session {
  api: Api | undefined;
  who: Whoami | undefined;
  authError: string | undefined;
  live: boolean;
  setToken(token: string | undefined): void;
  /** Calls fn for every live event; returns the unsubscribe. */
  subscribe(fn: (e: FleetEvent) => void): () => void;
}

/**
 * A token handed over in the URL fragment (`#token=…`, as `fleetvisor up` suggests): browsers never
 * send the fragment to a server. It is kept like a typed one and removed from the address bar.
 */
function tokenFromFragment(): string | undefined {
  const m = /^#token=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!m) return undefined;
  localStorage.setItem(TOKEN_KEY, m[1]!);
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`);
  return m[1];
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setTokenState] = useState<string | undefined>(() => tokenFromFragment() ?? localStorage.getItem(TOKEN_KEY) ?? undefined);
  const [who, setWho] = useState<Whoami | undefined>();
  const [authError, setAuthError] = useState<string | undefined>();
  const [live, setLive] = useState(false);
  const listeners = useRef(new Set<(e: FleetEvent) => void>());
  const api = useMemo(() => (token ? new Api(token) : undefined), [token]);

  const setToken = useCallback((t: string | undefined) => {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
    setAuthError(undefined);
    setWho(undefined);
    setTokenState(t);
  }, []);

  useEffect(() => {
    if (!api) return;
    let cancelled = false;
    api
      .get<Whoami>('/api/v1/whoami')
      .then((w) => !cancelled && setWho(w))
      .catch((e: Error) => {
        if (cancelled) return;
        setAuthError(e.message);
        setTokenState(undefined);
        localStorage.removeItem(TOKEN_KEY);
      });
    return () => {
      cancelled = true;
    };
  }, [api]);

  useEffect(() => {
    if (!api || !who) return;
    const abort = new AbortController();
    void api.follow((e) => listeners.current.forEach((fn) => fn(e)), setLive, abort.signal);
    return () => abort.abort();
  }, [api, who]);

  const subscribe = useCallback((fn: (e: FleetEvent) => void) => {
    listeners.current.add(fn);
    return () => {
      listeners.current.delete(fn);
    };
  }, []);

  const value = useMemo(() => ({ api, who, authError, live, setToken, subscribe }), [api, who, authError, live, setToken, subscribe]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/**
 * Loads data with the session's API and loads it again whenever a live event matches `refreshOn`
 * (coalesced: at most one reload per 300 ms while events pour in), and every `everyMs` when given:
 * for what moves without an event (chain heights and epochs, lag, last-seen times) and for a
 * service that did not answer the first time.
 */
export function useLive<T>(
  load: (api: Api) => Promise<T>,
  refreshOn: (e: FleetEvent) => boolean,
  deps: readonly unknown[] = [],
  everyMs?: number,
): { data: T | undefined; error: string | undefined; reload: () => void } {
  const { api, subscribe } = useSession();
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    if (!api) return;
    let cancelled = false;
    load(api)
      .then((d) => {
        if (cancelled) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [api, tick, ...deps]);

  useEffect(
    () =>
      subscribe((e) => {
        if (!refreshOn(e) || timer.current) return;
        timer.current = setTimeout(() => {
          timer.current = undefined;
          reload();
        }, 300);
      }),
    [subscribe, reload, ...deps],
  );

  useEffect(() => {
    if (everyMs === undefined) return;
    const every = setInterval(reload, everyMs);
    return () => clearInterval(every);
  }, [reload, everyMs]);

  return { data, error, reload };
}
