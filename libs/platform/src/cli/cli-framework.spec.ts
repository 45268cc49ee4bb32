import { describe, expect, it } from 'vitest';
import { defineCliCommand, lazyCommand, loadCommand, runCli, UsageError, type CliIo } from './cli-framework';

function memoryIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), stdoutIsTTY: false, stderrIsTTY: false, interrupted: new Promise(() => undefined) };
  return { io, out, err };
}

const seen: unknown[] = [];
const tail = defineCliCommand({
  path: ['events', 'tail'],
  summary: 'follow events',
  options: { from: { type: 'string', description: 'where', default: 'end' }, json: { type: 'boolean', description: 'json' } },
  async run({ options, positionals }) {
    seen.push({ options, positionals });
    if (options.from === 'bad') throw new UsageError('--from is bad');
    if (options.from === 'boom') throw new Error('database on fire');
  },
});
const commands = [tail];

describe('runCli', () => {
  it('routes nested commands and parses typed options with defaults', async () => {
    const { io } = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tail', '--json', 'x'], io, 'pre')).toBe(0);
    expect(seen.at(-1)).toEqual({ options: { from: 'end', json: true }, positionals: ['x'] });
  });

  it('prints generated help for a command', async () => {
    const { io, out } = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tail', '--help'], io, 'pre')).toBe(0);
    expect(out.join('')).toMatch(/Usage: fv events tail \[options\]/);
    expect(out.join('')).toMatch(/--from <value>\s+where \(default: end\)/);
  });

  it('exits 2 with a clear message on unknown commands, subcommands and flags', async () => {
    let m = memoryIo();
    expect(await runCli('fv', commands, ['evnets'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/^fv: unknown command 'evnets'\n\(Did you mean events\?\)/);
    m = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tial'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/^fv events: unknown command 'tial'\n\(Did you mean tail\?\)\nRun 'fv events --help' for usage/);
    m = memoryIo();
    expect(await runCli('fv', commands, ['events'], m.io, 'pre')).toBe(2);
    expect(m.out.join('')).toMatch(/Commands under 'events':[\s\S]*events tail/);
    expect(m.err.join('')).toBe('');
    m = memoryIo();
    expect(await runCli('fv', commands, ['events', '--help'], m.io, 'pre')).toBe(0);
    expect(m.out.join('')).toMatch(/Commands under 'events':/);
    m = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tail', '--frm', 'x'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/^fv events tail: unknown option '--frm'\n\(Did you mean --from\?\)\nRun 'fv events tail --help' for usage/);
    m = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tail', '--from'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/fv events tail: option '--from <value>' argument missing/);
  });

  it('shows the description and examples in help, and reads `--no-x` flags under their own name', async () => {
    const got: unknown[] = [];
    const up = defineCliCommand({
      path: ['up'],
      summary: 'run it all',
      description: 'Everything on this machine.',
      examples: ['fv up --no-devnet'],
      options: { 'no-devnet': { type: 'boolean', description: 'no local chain' }, workers: { type: 'string', description: 'how many', default: '3', short: 'w' } },
      async run({ options }) {
        got.push(options);
      },
    });
    let m = memoryIo();
    expect(await runCli('fv', [up], ['up', '--help'], m.io, 'pre')).toBe(0);
    expect(m.out.join('')).toMatch(/run it all\n\nEverything on this machine\.[\s\S]*-w, --workers <value>\s+how many \(default: 3\)[\s\S]*Examples:\n  fv up --no-devnet/);
    m = memoryIo();
    expect(await runCli('fv', [up], ['up'], m.io, 'pre')).toBe(0);
    expect(await runCli('fv', [up], ['up', '--no-devnet', '-w', '5'], m.io, 'pre')).toBe(0);
    expect(got).toEqual([{ 'no-devnet': false, workers: '3' }, { 'no-devnet': true, workers: '5' }]);
  });

  it('reads a list option given several times, in order, and [] when absent', async () => {
    const got: unknown[] = [];
    const gen = defineCliCommand({
      path: ['gen'],
      summary: 'generate',
      options: { host: { type: 'list', description: 'a host', placeholder: 'name' } },
      async run({ options }) {
        got.push(options.host);
      },
    });
    const m = memoryIo();
    expect(await runCli('fv', [gen], ['gen', '--host', 'h1', '--host', 'h2'], m.io, 'pre')).toBe(0);
    expect(await runCli('fv', [gen], ['gen'], m.io, 'pre')).toBe(0);
    expect(got).toEqual([['h1', 'h2'], []]);
    expect(await runCli('fv', [gen], ['gen', '--help'], m.io, 'pre')).toBe(0);
    expect(m.out.join('')).toMatch(/--host <name>\s+a host \(repeatable\)/);
  });

  it('maps UsageError to exit 2 and other failures to exit 1', async () => {
    let m = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tail', '--from', 'bad'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/fv events tail: --from is bad/);
    m = memoryIo();
    expect(await runCli('fv', commands, ['events', 'tail', '--from', 'boom'], m.io, 'pre')).toBe(1);
    expect(m.err.join('')).toMatch(/fv events tail: database on fire/);
  });

  it('hands every argument of a passThrough command to run, unparsed (help and unknown flags included)', async () => {
    const got: string[][] = [];
    const delegated = defineCliCommand({
      path: ['worker-agent'],
      summary: 'delegated',
      options: {},
      passThrough: true,
      async run({ positionals }) {
        got.push(positionals);
        return 7;
      },
    });
    const { io, out } = memoryIo();
    expect(await runCli('fv', [delegated, tail], ['worker-agent', 'pause', '--index', '3', '--help'], io, 'pre')).toBe(7);
    expect(got).toEqual([['pause', '--index', '3', '--help']]);
    expect(out.join('')).toBe('');
    const m = memoryIo();
    expect(await runCli('fv', [delegated, tail], ['worker-agnt'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/Did you mean worker-agent\?/);
  });
});

describe('lazy commands', () => {
  it('loads only the command the line selects; --help and unknown words load none', async () => {
    const loaded: string[] = [];
    const lazy = (words: string[]) =>
      lazyCommand({
        path: words,
        summary: `about ${words.join(' ')}`,
        load: () => {
          loaded.push(words.join(' '));
          return defineCliCommand({ path: words, summary: `about ${words.join(' ')}`, options: { json: { type: 'boolean', description: 'json' } }, run: async () => 3 });
        },
      });
    const commands = [lazy(['worker', 'list']), lazy(['worker', 'info']), lazy(['chain', 'status'])];
    let m = memoryIo();
    expect(await runCli('fv', commands, ['--help'], m.io, 'pre')).toBe(0);
    expect(m.out.join('')).toMatch(/worker list\s+about worker list/);
    m = memoryIo();
    expect(await runCli('fv', commands, ['worker', 'lst'], m.io, 'pre')).toBe(2);
    expect(m.err.join('')).toMatch(/Did you mean list\?/);
    expect(loaded).toEqual([]);
    m = memoryIo();
    expect(await runCli('fv', commands, ['worker', 'info', '--json'], m.io, 'pre')).toBe(3);
    expect(loaded).toEqual(['worker info']);
  });

  it('refuses a module that declares other words than the list', async () => {
    const wrong = lazyCommand({ path: ['a'], summary: 'a', load: () => defineCliCommand({ path: ['b'], summary: 'b', options: {}, run: async () => 0 }) });
    await expect(loadCommand(wrong)).rejects.toThrow(/command "a" loaded "b"/);
  });
});
