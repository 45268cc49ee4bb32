// Every Fleetvisor program's command line, on commander: commands declared as plain objects
// (nested names such as "events tail", typed options, examples), generated --help, "did you mean"
// for mistyped commands and flags, and one error path: a clear message, exit 2 for usage errors,
// 1 for failures. Declaring commands as data keeps them cheap to list: a command loads what it
// needs inside `run`, so `--help` loads nothing else.
import { Command, CommanderError, Option } from 'commander';

export type OptionSpec =
  | { type: 'string'; description: string; default?: string; short?: string; placeholder?: string; multiple?: false }
  | { type: 'boolean'; description: string; default?: boolean; short?: string }
  /** Repeatable (`--host a --host b`): every value, in order; none given is []. */
  | { type: 'list'; description: string; short?: string; placeholder?: string };

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); long-running commands race on it. */
  readonly interrupted: Promise<string>;
}

export interface CliContext<O> {
  options: O;
  positionals: string[];
  io: CliIo;
}

export interface CliCommand<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** Words that select the command, e.g. ['events', 'tail']. */
  path: string[];
  summary: string;
  /** Positional arguments shown in usage, e.g. '<projection>'. */
  args?: string;
  description?: string;
  examples?: string[];
  options: O;
  /**
   * Hand every argument after the command words to `run` as positionals, unparsed (--help
   * included): for commands that delegate to another program, which parses them itself.
   */
  passThrough?: boolean;
  run(ctx: CliContext<OptionValues<O>>): Promise<number | void>;
}

export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { type: 'list' } ? string[] : O[K] extends { default: string } ? string : string | undefined;
};

/**
 * A command listed by its words and summary only; its module (options, run, and everything run
 * needs) is loaded when the command line selects it, so listing commands or mistyping one loads
 * none of them.
 */
export interface LazyCliCommand {
  path: string[];
  summary: string;
  args?: string;
  load(): Promise<CliCommand> | CliCommand;
}

/** What a program's command list holds. */
export type CliEntry = CliCommand | LazyCliCommand;

export function lazyCommand(spec: LazyCliCommand): LazyCliCommand {
  return spec;
}

function isLazy(entry: CliEntry): entry is LazyCliCommand {
  return 'load' in entry && typeof entry.load === 'function';
}

/** The command behind an entry, loaded if it is lazy, checked against the words that listed it. */
export async function loadCommand(entry: CliEntry): Promise<CliCommand> {
  if (!isLazy(entry)) return entry;
  const cmd = await entry.load();
  if (cmd.path.join(' ') !== entry.path.join(' ')) throw new Error(`command "${entry.path.join(' ')}" loaded "${cmd.path.join(' ')}"`);
  return cmd;
}

/** A usage error: wrong flags or arguments. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function defineCliCommand<O extends Record<string, OptionSpec>>(cmd: CliCommand<O>): CliCommand<O> {
  return cmd;
}

export function programHelp(program: string, commands: readonly CliEntry[], preamble: string, footer = ''): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length + (c.args ? c.args.length + 1 : 0))) + 2;
  const lines = [preamble, '', `Usage: ${program} <command> [options]`, '', 'Commands:'];
  for (const c of commands) lines.push(`  ${(c.path.join(' ') + (c.args ? ' ' + c.args : '')).padEnd(width)} ${c.summary}`);
  lines.push('', `Run '${program} <command> --help' for a command's options.`);
  if (footer) lines.push('', footer);
  return lines.join('\n') + '\n';
}

/** Finds the command whose path is the longest prefix of argv. */
export function matchCommand<E extends CliEntry>(commands: readonly E[], argv: readonly string[]): { cmd: E; rest: string[] } | undefined {
  let best: { cmd: E; rest: string[] } | undefined;
  for (const cmd of commands) {
    if (cmd.path.every((w, i) => argv[i] === w) && (!best || cmd.path.length > best.cmd.path.length)) {
      best = { cmd, rest: argv.slice(cmd.path.length) };
    }
  }
  return best;
}

/** The commander option of one OptionSpec, and how to read its value back under the spec's name. */
function toOption(name: string, spec: OptionSpec): { option: Option; read: (opts: Record<string, unknown>) => unknown } {
  const placeholder = spec.type !== 'boolean' ? ` <${spec.placeholder ?? 'value'}>` : '';
  const option = new Option(`${spec.short ? `-${spec.short}, ` : ''}--${name}${placeholder}`, spec.type === 'list' ? `${spec.description} (repeatable)` : spec.description);
  if (spec.type === 'string' && spec.default !== undefined) option.default(spec.default, spec.default);
  const key = option.attributeName();
  if (spec.type === 'list') {
    option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    return { option, read: (opts) => (opts[key] as string[] | undefined) ?? [] };
  }
  // commander turns `--no-x` into x=false (default true); the spec names it `no-x`, true when given.
  const negated = spec.type === 'boolean' && name.startsWith('no-');
  return {
    option,
    read: (opts) => (negated ? opts[key] === false : (opts[key] ?? spec.default ?? (spec.type === 'boolean' ? false : undefined))),
  };
}

function buildProgram(program: string, commands: readonly CliEntry[], io: CliIo, done: (code: number) => void): Command {
  const root = new Command(program);
  const configure = (c: Command, label: string): Command =>
    c
      .exitOverride()
      .showSuggestionAfterError(true)
      .helpOption('-h, --help', 'show this help')
      .configureOutput({
        writeOut: (t) => io.out(t),
        writeErr: (t) => io.err(t),
        getOutHelpWidth: () => 100,
        getErrHelpWidth: () => 100,
        outputError: (t, write) => write(`${label}: ${t.replace(/^error: /, '')}` + (c === root ? '' : `Run '${label} --help' for usage.\n`)),
      });
  configure(root, program);
  const groups = new Map<string, Command>([['', root]]);
  for (const cmd of commands) {
    let parent = root;
    for (let i = 0; i < cmd.path.length - 1; i++) {
      const key = cmd.path.slice(0, i + 1).join(' ');
      let group = groups.get(key);
      if (!group) {
        group = configure(new Command(cmd.path[i]!), `${program} ${key}`);
        parent.addCommand(group);
        groups.set(key, group);
      }
      parent = group;
    }
    const label = `${program} ${cmd.path.join(' ')}`;
    if (isLazy(cmd) || cmd.passThrough) {
      // Not selected by this command line (or handed on unparsed): known by name only, for "did you mean".
      parent.addCommand(new Command(cmd.path.at(-1)!).summary(cmd.summary));
      continue;
    }
    const sub = configure(new Command(cmd.path.at(-1)!), label)
      .summary(cmd.summary)
      .description(cmd.description ? `${cmd.summary}\n\n${cmd.description}` : cmd.summary)
      .usage(`${cmd.args ? cmd.args + ' ' : ''}[options]`)
      .allowExcessArguments(true);
    const readers: [string, (opts: Record<string, unknown>) => unknown][] = [];
    for (const [name, spec] of Object.entries(cmd.options)) {
      const { option, read } = toOption(name, spec);
      sub.addOption(option);
      readers.push([name, read]);
    }
    if (cmd.examples?.length) sub.addHelpText('after', `\nExamples:\n${cmd.examples.map((e) => `  ${e}`).join('\n')}\n`);
    sub.action(async (...args: unknown[]) => {
      const self = args.at(-1) as Command;
      const opts = self.opts<Record<string, unknown>>();
      const options = Object.fromEntries(readers.map(([name, read]) => [name, read(opts)]));
      try {
        done((await cmd.run({ options: options as never, positionals: [...self.args], io })) ?? 0);
      } catch (e) {
        if (e instanceof UsageError) {
          io.err(`${label}: ${e.message}\nRun '${label} --help' for usage.\n`);
          done(2);
        } else {
          io.err(`${label}: ${(e as Error).message}\n`);
          done(1);
        }
      }
    });
    parent.addCommand(sub);
    groups.set(cmd.path.join(' '), sub);
  }
  return root;
}

export async function runCli(program: string, entries: readonly CliEntry[], argv: string[], io: CliIo, preamble: string): Promise<number> {
  let commands = entries;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(programHelp(program, commands, preamble));
    return argv.length === 0 ? 2 : 0;
  }
  const selected = matchCommand(entries, argv);
  const found = selected && { cmd: await loadCommand(selected.cmd), rest: selected.rest };
  if (found) commands = entries.map((e) => (e === selected.cmd ? found.cmd : e));
  if (found?.cmd.passThrough) {
    try {
      return (await found.cmd.run({ options: {} as never, positionals: found.rest, io })) ?? 0;
    } catch (e) {
      io.err(`${program} ${found.cmd.path.join(' ')}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (!found) {
    // A group's own word lists what is under it (as --help does), with exit 2 when nothing was asked.
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      io.out(programHelp(program, group, `Commands under '${argv[0]}':`));
      return argv.length === 1 ? 2 : 0;
    }
  }
  let code: number | undefined;
  const root = buildProgram(program, commands, io, (c) => {
    code = c;
  });
  try {
    await root.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return 2;
    }
    throw e;
  }
  return code ?? 0;
}
