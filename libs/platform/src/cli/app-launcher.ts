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
 * Node/V8 flags an app's process starts with: settings V8 reads only when the heap is set up, so the
 * app cannot set them itself once running (v8.setFlagsFromString is too late for these).
 * - worker-registry: a young generation of 2 x 32 MB instead of 2 x 16 MB. At 5,000 reports/s every
 *   report's parsed JSON is garbage within milliseconds; twice the room means half the scavenges and
 *   fewer short-lived objects promoted into the old generation. In the stress benchmark
 *   (docs/benchmarks.md, "Worker registry") registry CPU went from 81-97 % to 76-77 % of a core and
 *   p99 report -> visible from 520-1,622 ms to 279-357 ms, for ~30 MB more RSS.
 */
export const APP_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  'worker-registry': ['--max-semi-space-size=32'],
};

/** The command line that runs an app's entry point from source (with its APP_NODE_FLAGS). */
export function appCommandLine(app: string, args: readonly string[]): { file: string; argv: string[] } {
  if (!/^[a-z][a-z0-9-]*$/.test(app)) throw new Error(`invalid app name "${app}"`);
  const root = workspaceRoot();
  const entry = path.join(root, 'apps', app, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`app ${app} has no entry point at ${entry}`);
  return { file: process.execPath, argv: [...(APP_NODE_FLAGS[app] ?? []), path.join(root, 'bin', 'run-ts.js'), entry, ...args] };
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
