// The persistent sector stores a damocles-worker sees, read from its own TOML configuration
// (damocles-worker/src/config.rs, docs 03.damocles-worker-config.md):
//   [[attached]]                    one per store: location (required), name, readonly
//   [worker] scan_persist_stores    glob patterns (alias ScanPersistStores); each matching directory
//                                   that holds a sectorstore.json ({"ID", "Name", "ReadOnly"}) is a store
// Read-only stores are stores too: damocles keeps them for Window PoSt. The sealing threads'
// `location`s are scratch space for sectors being sealed, not where proven sectors live.
//
// Only what these keys need of TOML is read (tables, arrays of tables, strings, booleans, numbers,
// arrays, inline tables, comments): the workspace has no TOML dependency, and a value this reader
// does not know fails with its line rather than being guessed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export class TomlSubsetError extends Error {
  override name = 'TomlSubsetError';
}

type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
interface TomlTable {
  [key: string]: TomlValue;
}

/** Parses the TOML a damocles-worker configuration uses into plain objects (tables) and arrays. */
export function parseTomlSubset(text: string): TomlTable {
  const root: TomlTable = {};
  let current = root;
  let i = 0;
  let line = 1;
  const fail = (why: string): never => {
    throw new TomlSubsetError(`line ${line}: ${why}`);
  };
  const peek = (n = 0) => text[i + n] ?? '';
  const skipSpaces = () => {
    while (peek() === ' ' || peek() === '\t') i++;
  };
  /** Spaces, newlines and comments (inside arrays, and between statements). */
  const skipBlank = () => {
    for (;;) {
      skipSpaces();
      if (peek() === '#') while (i < text.length && peek() !== '\n') i++;
      else if (peek() === '\r' && peek(1) === '\n') i++;
      else if (peek() === '\n') {
        i++;
        line++;
      } else return;
    }
  };
  const endOfStatement = () => {
    skipSpaces();
    if (peek() === '#') while (i < text.length && peek() !== '\n') i++;
    if (peek() === '\r') i++;
    if (i < text.length && peek() !== '\n') fail(`unexpected "${peek()}" after a value`);
  };
  const basicString = (): string => {
    i++; // "
    let out = '';
    for (;;) {
      const c = peek();
      if (c === '' || c === '\n') fail('unterminated string');
      i++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = peek();
      i++;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\' };
      if (e in simple) out += simple[e];
      else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const hex = text.slice(i, i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('bad unicode escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        i += len;
      } else fail(`unknown escape \\${e}`);
    }
  };
  const literalString = (): string => {
    i++;
    const end = text.indexOf("'", i);
    const nl = text.indexOf('\n', i);
    if (end < 0 || (nl >= 0 && nl < end)) fail('unterminated string');
    const s = text.slice(i, end);
    i = end + 1;
    return s;
  };
  const multiline = (quote: string): string => {
    i += 3;
    const end = text.indexOf(quote.repeat(3), i);
    if (end < 0) fail('unterminated multi-line string');
    let s = text.slice(i, end);
    line += (s.match(/\n/g) ?? []).length;
    i = end + 3;
    if (s.startsWith('\n')) s = s.slice(1);
    // Escapes of multi-line basic strings are not needed for paths; a line-ending backslash is.
    return quote === '"' ? s.replace(/\\\r?\n\s*/g, '') : s;
  };
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      const c = peek();
      if (c === '"') parts.push(basicString());
      else if (c === "'") parts.push(literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
        if (!m) fail('expected a key');
        parts.push(m![0]);
        i += m![0].length;
      }
      skipSpaces();
      if (peek() !== '.') return parts;
      i++;
    }
  };
  const value = (): TomlValue => {
    const c = peek();
    if (c === '"') return peek(1) === '"' && peek(2) === '"' ? multiline('"') : basicString();
    if (c === "'") return peek(1) === "'" && peek(2) === "'" ? multiline("'") : literalString();
    if (c === '[') {
      i++;
      const out: TomlValue[] = [];
      for (;;) {
        skipBlank();
        if (peek() === ']') {
          i++;
          return out;
        }
        out.push(value());
        skipBlank();
        if (peek() === ',') i++;
        else if (peek() !== ']') fail('expected , or ] in an array');
      }
    }
    if (c === '{') {
      i++;
      const t: TomlTable = {};
      skipSpaces();
      if (peek() === '}') {
        i++;
        return t;
      }
      for (;;) {
        const k = key();
        if (peek() !== '=') fail('expected = in an inline table');
        i++;
        skipSpaces();
        assign(t, k, value());
        skipSpaces();
        if (peek() === ',') i++;
        else if (peek() === '}') {
          i++;
          return t;
        } else fail('expected , or } in an inline table');
      }
    }
    const m = /^[A-Za-z0-9_+.:-]+/.exec(text.slice(i, i + 64));
    if (!m) fail(`unexpected "${c}"`);
    i += m![0].length;
    const raw = m![0];
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    const n = Number(raw.replace(/_/g, ''));
    if (Number.isFinite(n)) return n;
    // Dates and the like are kept as text: nothing read from here is one.
    return raw;
  };
  const assign = (table: TomlTable, k: string[], v: TomlValue) => {
    let t = table;
    for (const part of k.slice(0, -1)) {
      const next = t[part];
      if (next === undefined) t = t[part] = {};
      else if (typeof next === 'object' && !Array.isArray(next)) t = next;
      else fail(`${k.join('.')}: ${part} is not a table`);
    }
    t[k[k.length - 1]!] = v;
  };
  const header = () => {
    const isArray = peek(1) === '[';
    i += isArray ? 2 : 1;
    const k = key();
    if (isArray ? !(peek() === ']' && peek(1) === ']') : peek() !== ']') fail('unterminated table header');
    i += isArray ? 2 : 1;
    let t = root;
    k.forEach((part, n) => {
      const last = n === k.length - 1;
      let next = t[part];
      if (last && isArray) {
        if (next === undefined) next = t[part] = [];
        if (!Array.isArray(next)) fail(`${k.join('.')} is not an array of tables`);
        const fresh: TomlTable = {};
        (next as TomlValue[]).push(fresh);
        t = fresh;
        return;
      }
      if (Array.isArray(next)) next = next[next.length - 1];
      if (next === undefined) next = t[part] = {};
      if (typeof next !== 'object' || Array.isArray(next)) fail(`${k.join('.')}: ${part} is not a table`);
      t = next as TomlTable;
    });
    current = t;
  };

  for (;;) {
    skipBlank();
    if (i >= text.length) return root;
    if (peek() === '[') header();
    else {
      const k = key();
      if (peek() !== '=') fail(`expected = after ${k.join('.')}`);
      i++;
      skipSpaces();
      assign(current, k, value());
    }
    endOfStatement();
  }
}

export interface DamoclesStore {
  location: string;
  /** damocles' name for it (the location when none is set). */
  name: string;
  readonly: boolean;
}

/** Expands a glob pattern (`*`, `?`, `[…]` within a path segment; `**` as one segment) into existing directories. */
export function expandDirGlob(pattern: string): string[] {
  const abs = path.resolve(pattern);
  const segments = abs.split(path.sep).filter((s) => s !== '');
  let found: string[] = [path.sep];
  for (const seg of segments) {
    const next: string[] = [];
    if (!/[*?[]/.test(seg)) {
      for (const dir of found) next.push(path.join(dir, seg));
    } else {
      const re = new RegExp(
        '^' +
          seg
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*+/g, '[^/]*')
            .replace(/\?/g, '[^/]') +
          '$',
      );
      for (const dir of found) {
        let names: string[];
        try {
          names = readdirSync(dir).sort();
        } catch {
          continue;
        }
        for (const n of names) if (re.test(n) && !(n.startsWith('.') && !seg.startsWith('.'))) next.push(path.join(dir, n));
      }
    }
    found = next;
  }
  return found.filter((p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  });
}

const isTable = (v: unknown): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The stores of a damocles-worker configuration file: its [[attached]] entries, then the
 * directories its scan_persist_stores patterns match that hold a sectorstore.json. A relative
 * location is taken from the configuration file's directory.
 */
export function damoclesStores(configFile: string): DamoclesStore[] {
  const text = readFileSync(configFile, 'utf8');
  const cfg = parseTomlSubset(text);
  const base = path.dirname(path.resolve(configFile));
  const out: DamoclesStore[] = [];
  const attached = cfg['attached'];
  if (attached !== undefined) {
    const list = Array.isArray(attached) ? attached : [attached];
    list.forEach((a, n) => {
      if (!isTable(a) || typeof a['location'] !== 'string' || a['location'] === '') throw new TomlSubsetError(`[[attached]] #${n + 1} has no location`);
      const location = path.resolve(base, a['location']);
      out.push({ location, name: typeof a['name'] === 'string' && a['name'] !== '' ? a['name'] : location, readonly: a['readonly'] === true });
    });
  }
  const worker = cfg['worker'];
  const patterns = isTable(worker) ? (worker['scan_persist_stores'] ?? worker['ScanPersistStores']) : undefined;
  if (patterns !== undefined) {
    if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string')) throw new TomlSubsetError('[worker] scan_persist_stores must be an array of strings');
    for (const pattern of patterns as string[]) {
      for (const dir of expandDirGlob(path.resolve(base, pattern))) {
        let meta: unknown;
        try {
          meta = JSON.parse(readFileSync(path.join(dir, 'sectorstore.json'), 'utf8'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
          throw new TomlSubsetError(`${path.join(dir, 'sectorstore.json')}: ${(e as Error).message}`);
        }
        const m = isTable(meta) ? meta : {};
        const name = typeof m['Name'] === 'string' && m['Name'] !== '' ? m['Name'] : typeof m['ID'] === 'string' && m['ID'] !== '' ? m['ID'] : dir;
        out.push({ location: dir, name, readonly: m['ReadOnly'] === true });
      }
    }
  }
  return out;
}
