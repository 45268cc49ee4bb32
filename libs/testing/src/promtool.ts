// Prometheus's own checker for what the services export and for the shipped alert rules:
// `promtool check metrics` (exposition format and naming), `check rules`, `test rules`.
import { get } from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { readTestingConfig } from './config';
import { isExecutable } from './private-process';

let found: string | undefined;

/** FLEETVISOR_TEST_PROMTOOL, else promtool on PATH, else the one scripts/ensure-promtool.sh unpacks from Debian's package. */
export function findPromtool(): string {
  if (found) return found;
  const configured = readTestingConfig().promtoolBin;
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`promtool not executable at ${configured} (FLEETVISOR_TEST_PROMTOOL)`);
    return (found = configured);
  }
  const script = path.resolve(__dirname, '../../../scripts/ensure-promtool.sh');
  found = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return found;
}

/** Runs promtool with `args`, `input` on its stdin; resolves with its exit code and output. */
export function promtool(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(findPromtool(), args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** GET `url` (a /metrics or /health endpoint): its status and body, whatever the status. */
export function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** The value of one sample line of an exposition text (`name{labels} value`). */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
