// The command list names each command's words and summary without loading it; these must be the
// words and summary of the module that `load` brings, or --help would describe another command.
import { describe, expect, it } from 'vitest';
import { loadCommand, type CliEntry } from '@fleetvisor/platform/cli';
import { APP_ROUTES } from '../app-routes';
import { COMMANDS } from './index';

const isLazy = (e: CliEntry): e is Extract<CliEntry, { load: unknown }> => 'load' in e;

describe('the fleetvisor command list', () => {
  // Loading a command's module (`up` brings most of the program) is transforming TypeScript under
  // vitest: seconds on a busy machine, so the limit is wide; the test is about the words, not the time.
  it.each(COMMANDS.filter(isLazy).map((e) => [e.path.join(' '), e] as const))(
    '%s: listed as its module declares it',
    async (_words, entry) => {
      const cmd = await loadCommand(entry);
      expect({ path: cmd.path, summary: cmd.summary, args: cmd.args }).toEqual({ path: entry.path, summary: entry.summary, args: entry.args });
    },
    30_000,
  );

  it("lists every service app's words, and no words twice", () => {
    const words = COMMANDS.map((c) => c.path.join(' '));
    // A route may sit under a command of the CLI's own (`install-systemd service-runner` under
    // `install-systemd <service>`), which lists it in its help.
    for (const r of APP_ROUTES) expect(words.filter((w) => r.path.join(' ').startsWith(w))).not.toEqual([]);
    expect(new Set(words).size).toBe(words.length);
  });
});
