// A parser of the Prometheus text exposition format (version 0.0.4, what /metrics endpoints serve
// with `Content-Type: text/plain; version=0.0.4`): `# HELP` and `# TYPE` lines, samples
// `name{label="value",…} value [timestamp]` with the label-value escapes \\ \" \n, HELP escapes
// \\ \n, the values NaN, +Inf, -Inf, optional trailing commas in label sets, blank lines and other
// comments. Written here rather than taken from npm: the one maintained JS parser found
// (parse-prometheus-text-format) groups samples into metric families with its own histogram
// shapes, while the scraper needs the raw samples and their labels; the format is small and
// fully specified. A malformed line is an error naming its line number (a scrape is all or nothing).

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface Exposition {
  samples: Sample[];
  /** Declared types by metric family name. */
  types: Map<string, MetricType>;
  help: Map<string, string>;
}

export class ExpositionParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionParseError';
  }
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // Go's strconv.ParseFloat forms: decimals, exponents, hex floats are not emitted by clients.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new ExpositionParseError(line, `"${text}" is not a number`);
  return Number(text);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, MetricType>();
  const help = new Map<string, string>();
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const lineNo = ln + 1;
    const line = lines[ln]!.replace(/\r$/, '');
    let i = 0;
    const skipBlank = () => {
      while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    };
    skipBlank();
    if (i === line.length) continue;
    if (line[i] === '#') {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]+(.*))?$/.exec(line.slice(i));
      if (!m) continue; // another comment
      const [, kind, name, rest = ''] = m;
      if (kind === 'HELP') help.set(name!, unescapeHelp(rest));
      else {
        const t = rest.trim() as MetricType;
        if (!TYPES.has(t)) throw new ExpositionParseError(lineNo, `unknown type "${rest.trim()}" for ${name}`);
        types.set(name!, t);
      }
      continue;
    }
    // Metric name.
    if (!NAME_START.test(line[i]!)) throw new ExpositionParseError(lineNo, `a metric name cannot start with "${line[i]}"`);
    const nameStart = i;
    while (i < line.length && NAME_CHAR.test(line[i]!)) i++;
    const name = line.slice(nameStart, i);
    const labels: Record<string, string> = {};
    skipBlank();
    if (line[i] === '{') {
      i++;
      for (;;) {
        skipBlank();
        if (line[i] === '}') {
          i++;
          break;
        }
        if (i >= line.length || !LABEL_START.test(line[i]!)) throw new ExpositionParseError(lineNo, `expected a label name at column ${i + 1}`);
        const ls = i;
        while (i < line.length && LABEL_CHAR.test(line[i]!)) i++;
        const label = line.slice(ls, i);
        skipBlank();
        if (line[i] !== '=') throw new ExpositionParseError(lineNo, `expected "=" after label ${label}`);
        i++;
        skipBlank();
        if (line[i] !== '"') throw new ExpositionParseError(lineNo, `expected a quoted value for label ${label}`);
        i++;
        let value = '';
        for (;;) {
          if (i >= line.length) throw new ExpositionParseError(lineNo, `unterminated value of label ${label}`);
          const c = line[i]!;
          if (c === '"') {
            i++;
            break;
          }
          if (c === '\\') {
            const e = line[i + 1];
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else throw new ExpositionParseError(lineNo, `invalid escape "\\${e ?? ''}" in label ${label}`);
            i += 2;
            continue;
          }
          value += c;
          i++;
        }
        if (Object.prototype.hasOwnProperty.call(labels, label)) throw new ExpositionParseError(lineNo, `label ${label} appears twice`);
        labels[label] = value;
        skipBlank();
        if (line[i] === ',') {
          i++;
          continue;
        }
        if (line[i] === '}') {
          i++;
          break;
        }
        throw new ExpositionParseError(lineNo, `expected "," or "}" after label ${label}`);
      }
    }
    const rest = line.slice(i).trim().split(/[ \t]+/);
    if (rest.length === 0 || rest[0] === '' || rest.length > 2) throw new ExpositionParseError(lineNo, `expected "<value> [timestamp]" after ${name}`);
    const sample: Sample = { name, labels, value: parseValue(rest[0]!, lineNo) };
    if (rest.length === 2) {
      if (!/^-?\d+$/.test(rest[1]!)) throw new ExpositionParseError(lineNo, `timestamp "${rest[1]}" is not an integer of milliseconds`);
      sample.timestampMs = Number(rest[1]);
    }
    samples.push(sample);
  }
  return { samples, types, help };
}
