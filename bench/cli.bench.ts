// CLI start-up benchmark: `npm run bench:cli [-- --quick]`.
//
// Whole-process wall time of the compiled `fleetvisor` program, each command paired with a bare
// `node -e 0` started right before or after it (alternating which goes first), so both see the
// same moment of a noisy machine; the judged figure is the ratio of the medians.
//   1. `fleetvisor --help`
//   2. a usage error: a mistyped command (`fleetvisor worker lst`, answered with a suggestion)
//   3. `fleetvisor worker list` against a running registry that knows 100 workers
// Peak RSS of each command comes from separate runs with a preload that reports
// process.resourceUsage().maxRSS at exit (kept out of the timed runs).
// Targets: --help <= 3x bare node, worker list <= 5x bare node, CLI peak RSS <= 80 MB.
//
// Output: progress on stderr; ONE JSON object as the last line of stdout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { createSubjects, WorkerReportCommand, type WorkerReport } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { textTable } from './lib/table';

const quick = process.argv.includes('--quick');
const PAIRS = quick ? 10 : 30;
const WORKERS = 100;
const TARGETS = { help: 3, workerList: 5, rssMb: 80 };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

function timeRun(file: string, argv: string[], env: NodeJS.ProcessEnv, expectCode: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== expectCode) throw new Error(`${argv.join(' ')} exited ${r.status} (expected ${expectCode}): ${r.stderr.toString().slice(-500)}`);
  return ms;
}

interface PairResult {
  name: string;
  commandMs: number;
  nodeMs: number;
  ratio: number;
  peakRssMb: number;
}

function measure(name: string, args: string[], env: NodeJS.ProcessEnv, expectCode: number, rssDir: string): PairResult {
  const cmd = fleetvisorProcess(args);
  const bare = { file: process.execPath, argv: ['-e', '0'] };
  // Warm the file cache once for each, untimed.
  timeRun(cmd.file, cmd.argv, env, expectCode);
  timeRun(bare.file, bare.argv, env, 0);
  const ours: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2 === 0) {
      ours.push(timeRun(cmd.file, cmd.argv, env, expectCode));
      node.push(timeRun(bare.file, bare.argv, env, 0));
    } else {
      node.push(timeRun(bare.file, bare.argv, env, 0));
      ours.push(timeRun(cmd.file, cmd.argv, env, expectCode));
    }
  }
  const rss: number[] = [];
  const preload = path.join(rssDir, 'max-rss.js');
  for (let i = 0; i < 3; i++) {
    const out = path.join(rssDir, `rss-${name.replace(/\W+/g, '-')}-${i}`);
    timeRun(cmd.file, ['-r', preload, ...cmd.argv], { ...env, BENCH_MAX_RSS_FILE: out }, expectCode);
    rss.push(Number(readFileSync(out, 'utf8')) / 1024);
  }
  const result = { name, commandMs: round(median(ours), 1), nodeMs: round(median(node), 1), ratio: round(median(ours) / median(node)), peakRssMb: round(Math.max(...rss), 1) };
  progress(`${name}: ${result.commandMs} ms vs node -e 0 ${result.nodeMs} ms (x${result.ratio}), peak RSS ${result.peakRssMb} MB`);
  return result;
}

function report(name: string, index: number): WorkerReport {
  const threads = Array.from({ length: 8 }, (_, i) => ({ index: i, plan: 'sealer' as const, threadState: 'idle' as const, state: 'Empty', location: `/data/${name}/${i}` }));
  return { name, dest: `10.0.${Math.floor(index / 250)}.${index % 250}:17890`, version: '0.9.0', bootId: randomUUID(), sentAt: new Date().toISOString(), threads, transitions: [] };
}

async function main(): Promise<void> {
  const rssDir = mkdtempSync(path.join(tmpdir(), 'fleetvisor-bench-cli-'));
  writeFileSync(
    path.join(rssDir, 'max-rss.js'),
    "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_MAX_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const db = await createTestDatabase('fvbcli');
  const bus = testBusNames();
  const env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_LOG_LEVEL: 'warn' } as NodeJS.ProcessEnv;
  let registry: ChildProcess | undefined;
  const nc = await connect({ servers: sharedNatsUrl() });
  try {
    const help = measure('fleetvisor --help', ['--help'], env, 0, rssDir);
    const usage = measure('fleetvisor worker lst (usage error)', ['worker', 'lst'], env, 2, rssDir);

    const migrate = fleetvisorProcess(['migrate']);
    timeRun(migrate.file, migrate.argv, env, 0);
    const app = fleetvisorProcess(['worker-registry', 'run'], ['--max-semi-space-size=32']);
    registry = spawn(app.file, app.argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let registryErr = '';
    registry.stderr!.on('data', (d: Buffer) => (registryErr = (registryErr + d.toString()).slice(-2000)));
    const commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger: createLogger({ name: 'bench-cli', level: 'warn', format: 'json', stream: 'stderr' }) });
    progress(`registry started; reporting ${WORKERS} workers`);
    await expectEventually(
      async () => {
        if (registry?.exitCode !== null) throw new Error(`registry exited: ${registryErr}`);
        const reply = await commands.request(WorkerReportCommand, report('bench-w-000', 0), { timeoutMs: 2_000, scope: 'bench-w-000' });
        if (!reply.ok) throw new Error(reply.error.message);
      },
      { timeoutMs: 60_000 },
    );
    for (let i = 1; i < WORKERS; i++) {
      const name = `bench-w-${String(i).padStart(3, '0')}`;
      const reply = await commands.request(WorkerReportCommand, report(name, i), { timeoutMs: 10_000, scope: name });
      if (!reply.ok) throw new Error(`report ${i}: ${reply.error.message}`);
    }
    const list = fleetvisorProcess(['worker', 'list', '--json']);
    await expectEventually(
      () => {
        const r = spawnSync(list.file, list.argv, { env, encoding: 'utf8' });
        const n = (JSON.parse(r.stdout) as { workers: unknown[] }).workers.length;
        if (n !== WORKERS) throw new Error(`worker list shows ${n} workers, expected ${WORKERS}`);
      },
      { timeoutMs: 30_000 },
    );
    const workerList = measure(`fleetvisor worker list (${WORKERS} workers)`, ['worker', 'list'], env, 0, rssDir);

    const rows = [help, usage, workerList];
    process.stderr.write(
      '\n' +
        textTable(
          ['command', 'median ms', 'node -e 0 ms', 'ratio', 'peak RSS MB'],
          rows.map((r) => [r.name, String(r.commandMs), String(r.nodeMs), `${r.ratio}x`, String(r.peakRssMb)]),
        ) +
        '\n',
    );
    const cliPeakRssMb = Math.max(...rows.map((r) => r.peakRssMb));
    const pass = { help: help.ratio <= TARGETS.help, workerList: workerList.ratio <= TARGETS.workerList, rss: cliPeakRssMb <= TARGETS.rssMb };
    progress(`targets: --help <= ${TARGETS.help}x ${pass.help ? 'PASS' : 'FAIL'}, worker list <= ${TARGETS.workerList}x ${pass.workerList ? 'PASS' : 'FAIL'}, RSS <= ${TARGETS.rssMb} MB ${pass.rss ? 'PASS' : 'FAIL'}`);
    emitResult({
      bench: 'cli',
      quick,
      pairs: PAIRS,
      helpRatioVsNode: help.ratio,
      usageErrorRatioVsNode: usage.ratio,
      workerListRatioVsNode: workerList.ratio,
      cliPeakRssMb,
      rows,
      pass,
    });
  } finally {
    registry?.kill('SIGTERM');
    await nc.close();
    await db.drop().catch(() => undefined);
    rmSync(rssDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench cli failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
