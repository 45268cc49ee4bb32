// What the metering proxy needs to know of JSON-RPC 2.0 bodies, read without changing a byte of
// them: the methods (and ids) a request calls, and which of the answers are errors. Requests are
// small and parsed; a response may be megabytes (a tipset, a sector list), so a single response is
// scanned for its top-level keys only (nested values skipped without building them), and only a
// batch response is parsed (to match its answers to the requests by id).
import { API_METHOD_PATTERN } from '@fleetvisor/contracts';

export interface CallEntry {
  /** JSON text of the id (so 1 and "1" stay apart); undefined for a notification. */
  id: string | undefined;
  method: string;
}

export interface RequestScan {
  batch: boolean;
  calls: CallEntry[];
}

const METHOD_RE = new RegExp(API_METHOD_PATTERN);
/** Method of a body that is not a JSON-RPC request (counted under this name, never dropped). */
export const UNPARSED_METHOD = 'unparsed';
/** Method names that could not be stored (too long, odd characters) are counted under this name. */
export const INVALID_METHOD = 'invalid-method';

function methodName(m: unknown): string {
  return typeof m === 'string' && METHOD_RE.test(m) ? m : INVALID_METHOD;
}

function entry(x: unknown): CallEntry {
  if (typeof x !== 'object' || x === null) return { id: undefined, method: UNPARSED_METHOD };
  const o = x as { id?: unknown; method?: unknown };
  return { id: o.id === undefined || o.id === null ? undefined : JSON.stringify(o.id), method: methodName(o.method) };
}

/** The calls of a request body: one for a single request, one per element of a batch. */
export function scanRequest(body: Buffer | string): RequestScan {
  let v: unknown;
  try {
    v = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return { batch: false, calls: [{ id: undefined, method: UNPARSED_METHOD }] };
  }
  if (Array.isArray(v)) return { batch: true, calls: v.length === 0 ? [{ id: undefined, method: UNPARSED_METHOD }] : v.map(entry) };
  return { batch: false, calls: [entry(v)] };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The top-level keys of a JSON object text, or undefined when it is not one. Strings are skipped
 * with their escapes and nested objects and arrays by depth, so a 10 MB result costs one byte loop.
 */
export function topLevelKeys(buf: Buffer): string[] | undefined {
  let i = 0;
  const n = buf.length;
  const ws = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  while (i < n && ws(buf[i]!)) i++;
  if (buf[i] !== 0x7b) return undefined;
  i++;
  const keys: string[] = [];
  let depth = 1;
  let expectKey = true;
  while (i < n) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const start = i + 1;
      i++;
      while (i < n && buf[i] !== QUOTE) i += buf[i] === BACKSLASH ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(buf.toString('utf8', start, i));
        expectKey = false;
      }
      i++;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return keys;
    } else if (c === 0x2c && depth === 1) expectKey = true;
    i++;
  }
  return undefined;
}

export type Outcome = 'ok' | 'error';

/**
 * Outcome of each call of a request from the response body: a single response is an error when
 * it has a top-level "error" key; a batch response is matched by id (a call without an answer, or
 * any call when the body is not what JSON-RPC says, counts as an error).
 */
export function responseOutcomes(req: RequestScan, body: Buffer): Outcome[] {
  if (!req.batch) {
    const keys = topLevelKeys(body);
    return [keys && keys.includes('result') && !keys.includes('error') ? 'ok' : 'error'];
  }
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return req.calls.map(() => 'error');
  }
  if (!Array.isArray(v)) return req.calls.map(() => 'error');
  const byId = new Map<string, Outcome>();
  for (const r of v) {
    if (typeof r !== 'object' || r === null) continue;
    const o = r as { id?: unknown; error?: unknown };
    if (o.id === undefined || o.id === null) continue;
    byId.set(JSON.stringify(o.id), o.error === undefined ? 'ok' : 'error');
  }
  // A notification gets no answer by design: it is ok when the batch was answered at all.
  return req.calls.map((c) => (c.id === undefined ? 'ok' : (byId.get(c.id) ?? 'error')));
}
