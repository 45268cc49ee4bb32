import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ROUTES, appEntryFile, appProcess, appRouteFor } from './app-routes';

describe('appRouteFor', () => {
  it('picks the app whose words begin the arguments', () => {
    expect(appRouteFor(['worker-registry', 'run', '--no-relay'])?.app).toBe('worker-registry');
    expect(appRouteFor(['worker-agent', 'run'])?.app).toBe('worker-agent');
    expect(appRouteFor(['start', '--directory', '/x'])?.app).toBe('service-runner');
  });

  it("leaves the CLI's own words to the CLI, including other worker-agent subcommands", () => {
    expect(appRouteFor(['worker-agent', 'list'])).toBeUndefined();
    expect(appRouteFor(['worker', 'list'])).toBeUndefined();
    expect(appRouteFor(['--help'])).toBeUndefined();
    expect(appRouteFor([])).toBeUndefined();
  });

  it('routes only to apps that have an entry point', () => {
    for (const r of APP_ROUTES) expect(() => appEntryFile(r.app)).not.toThrow();
  });
});

describe('appProcess', () => {
  it("starts the app's entry point with its node flags first (from source: through the TypeScript loader)", () => {
    const { file, argv } = appProcess('worker-registry', ['worker-registry', 'run'], ['--max-semi-space-size=32']);
    expect(file).toBe(process.execPath);
    expect(argv[0]).toBe('--max-semi-space-size=32');
    expect(argv).toContain(path.resolve(__dirname, '..', '..', 'worker-registry', 'src', 'main.ts'));
    expect(argv.slice(-2)).toEqual(['worker-registry', 'run']);
  });

  it('refuses an app name that is not a plain word, and an app without an entry point', () => {
    expect(() => appEntryFile('../etc')).toThrow(/invalid app name/);
    expect(() => appEntryFile('no-such-app')).toThrow(/no-such-app has no entry point/);
  });
});
