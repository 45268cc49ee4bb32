// The gateway's REST API as the dashboard uses it: a bearer token on every call, RFC 9457 problem
// details turned into errors that say what went wrong, and the live event stream read through
// fetch (so the token travels in a header, and a reconnect resumes from Last-Event-ID).
import { SseParser } from './sse';

export type Role = 'read' | 'operate' | 'admin';

export interface Whoami {
  name: string;
  role: Role;
}

/** An event as the gateway's events routes show it. */
export interface FleetEvent {
  id: string;
  type: string;
  stream: string;
  data: Record<string, unknown>;
  metadata: { actor?: string; host?: string } & Record<string, unknown>;
  occurredAt: string;
  checkpoint: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ROLE_RANK: Record<Role, number> = { read: 0, operate: 1, admin: 2 };
export const mayAct = (who: Whoami | undefined, needed: Role): boolean => who !== undefined && ROLE_RANK[who.role] >= ROLE_RANK[needed];

export class Api {
  constructor(
    private readonly token: string,
    private readonly base = '',
  ) {}

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, query?: Record<string, string | number | boolean | undefined>, body?: unknown): Promise<T> {
    const qs = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}${qs ? `?${qs}` : ''}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (!res.ok) {
      let detail = text;
      try {
        const p = JSON.parse(text) as { title?: string; detail?: string };
        detail = p.detail ?? p.title ?? text;
      } catch {
        // not problem+json: keep the text
      }
      throw new ApiError(res.status, detail || `${res.status} ${res.statusText}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T> {
    return this.call<T>('GET', path, query);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, undefined, body);
  }

  /**
   * Follows /api/v1/events/stream until `signal` aborts, reconnecting with backoff and resuming
   * after the last event seen. `onState` reports whether the stream is up.
   */
  async follow(onEvent: (e: FleetEvent) => void, onState: (up: boolean) => void, signal: AbortSignal, from?: string): Promise<void> {
    let last = from;
    let delay = 500;
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' };
        if (last) headers['last-event-id'] = last;
        // Without a position the stream starts at the live end; with one it resumes right after it.
        const res = await fetch(`${this.base}/api/v1/events/stream`, { headers, signal });
        if (!res.ok || !res.body) throw new ApiError(res.status, `event stream: ${res.status}`);
        onState(true);
        delay = 500;
        const parser = new SseParser((m) => {
          last = m.id ?? last;
          try {
            onEvent(JSON.parse(m.data) as FleetEvent);
          } catch {
            // a message that is not an event (none are sent today): skip it
          }
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          onState(false);
          return;
        }
      }
      onState(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
