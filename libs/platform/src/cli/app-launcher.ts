// `fleetvisor <command>` for a command an app owns (chain-watcher, worker-agent, service-runner…):
// apps never import each other, so the CLI runs the app's own entry point (apps/<app>/src/main.ts)
// as a child process with the same arguments, stdio and exit code, and passes SIGINT/SIGTERM on.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { environmentWith, PARENT_PID_VARIABLE, type Env } from '../config';
import { defineCliCommand, type CliCommand } from './cli-framework';

function workspaceRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'bin', 'run-ts.js')) && existsSync(path.join(dir, 'apps'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('cannot find the Fleetvisor workspace (bin/run-ts.js) above ' + __dirname);
  }
}

/**
 * Node/V8 flags an app's process starts with, by app and command (the first rule whose app matches
 * and whose command words begin the arguments wins): settings V8 reads only when the heap is set
 * up, so a running process cannot change them (v8.setFlagsFromString is too late).
 * - worker-registry rebuild: a 2 x 64 MB young generation. Each batch of 10,000 events is parsed
 *   JSON that dies with the batch; 1M-event rebuild 9.4-9.6 s -> 8.2-8.7 s (docs/benchmarks.md).
 * - worker-registry (run): 2 x 32 MB instead of 2 x 16 MB. At 5,000 reports/s every report's parsed
 *   JSON is garbage within milliseconds; twice the room means half the scavenges and fewer
 *   short-lived objects promoted to the old generation. Stress benchmark: registry CPU 81-97 % ->
 *   76-77 % of a core, p99 report -> visible 520-1,622 ms -> 279-357 ms, for ~30 MB more RSS
 *   (64 MB cost more RSS than the 300 MB target allows).
 */
export const APP_NODE_FLAGS: readonly { app: string; command?: readonly string[]; flags: readonly string[] }[] = [
  { app: 'worker-registry', command: ['worker-registry', 'rebuild'], flags: ['--max-semi-space-size=64'] },
  { app: 'worker-registry', flags: ['--max-semi-space-size=32'] },
];

/** The Node flags of `app` run with `args` (APP_NODE_FLAGS). */
export function appNodeFlags(app: string, args: readonly string[]): readonly string[] {
  const rule = APP_NODE_FLAGS.find((r) => r.app === app && (r.command ?? []).every((word, i) => args[i] === word));
  return rule?.flags ?? [];
}

/** The command line that runs an app's entry point from source (with its APP_NODE_FLAGS). */
export function appCommandLine(app: string, args: readonly string[]): { file: string; argv: string[] } {
  if (!/^[a-z][a-z0-9-]*$/.test(app)) throw new Error(`invalid app name "${app}"`);
  const root = workspaceRoot();
  const entry = path.join(root, 'apps', app, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`app ${app} has no entry point at ${entry}`);
  return { file: process.execPath, argv: [...appNodeFlags(app, args), path.join(root, 'bin', 'run-ts.js'), entry, ...args] };
}

/** Runs an app's main with these arguments, stdio inherited; resolves with its exit code. */
export function launchApp(app: string, args: readonly string[], opts: { env?: Env } = {}): Promise<number> {
  const { file, argv } = appCommandLine(app, args);
  // The app stops itself if this process dies without passing a signal on (SIGKILL).
  const env = environmentWith({ [PARENT_PID_VARIABLE]: String(process.pid) }, opts.env);
  const child = spawn(file, argv, { stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
    });
  });
}

/**
 * A `fleetvisor` command that an app implements: `path` words select it, and the app's main is
 * run with `appArgs` followed by everything the user typed after those words (--help included).
 */
export function appCommand(spec: { path: string[]; app: string; appArgs?: string[]; summary: string; args?: string }): CliCommand {
  return defineCliCommand({
    path: spec.path,
    summary: spec.summary,
    ...(spec.args ? { args: spec.args } : {}),
    options: {},
    passThrough: true,
    run: ({ positionals }) => launchApp(spec.app, [...(spec.appArgs ?? spec.path), ...positionals]),
  }) as unknown as CliCommand;
}
