import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appCommandLine, appNodeFlags } from './app-launcher';

describe('appCommandLine', () => {
  it("runs the app's entry point from source through bin/run-ts.js, with the arguments after it", () => {
    const { file, argv } = appCommandLine('chain-watcher', ['chain-watcher', 'run']);
    expect(file).toBe(process.execPath);
    expect(argv.slice(-4).map((a, i) => (i < 2 ? path.relative(path.resolve(__dirname, '../../../..'), a) : a))).toEqual([
      path.join('bin', 'run-ts.js'),
      path.join('apps', 'chain-watcher', 'src', 'main.ts'),
      'chain-watcher',
      'run',
    ]);
    expect(argv).toHaveLength(4);
  });

  it("puts an app's V8 flags before the script, where node reads them, chosen by command", () => {
    const run = appCommandLine('worker-registry', ['worker-registry', 'run']).argv;
    expect(run.slice(0, 2)).toEqual(['--max-semi-space-size=32', expect.stringMatching(/run-ts\.js$/)]);
    const rebuild = appCommandLine('worker-registry', ['worker-registry', 'rebuild', '--json']).argv;
    expect(rebuild.slice(0, 2)).toEqual(['--max-semi-space-size=64', expect.stringMatching(/run-ts\.js$/)]);
    expect(appNodeFlags('worker-registry', ['worker-registry'])).toEqual(['--max-semi-space-size=32']);
    expect(appNodeFlags('chain-watcher', ['chain-watcher', 'run'])).toEqual([]);
  });

  it('refuses an app name that is not a plain word, and an app without an entry point', () => {
    expect(() => appCommandLine('../etc', [])).toThrow(/invalid app name/);
    expect(() => appCommandLine('no-such-app', [])).toThrow(/no-such-app has no entry point/);
  });
});
