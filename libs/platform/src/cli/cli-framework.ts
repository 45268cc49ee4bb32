// A small command router over node:util parseArgs: nested command names ("events tail"),
// generated --help, typed option values, and one error path that prints a clear message and
// exits 2 for usage errors, 1 for failures. No dependency beyond Node.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec =
  | { type: 'string'; description: string; default?: string; short?: string; placeholder?: string; multiple?: false }
  | { type: 'boolean'; description: string; default?: boolean; short?: string };

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
  [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

/** A usage error: wrong flags or arguments. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function defineCliCommand<O extends Record<string, OptionSpec>>(cmd: CliCommand<O>): CliCommand<O> {
  return cmd;
}

function optionLine(name: string, spec: OptionSpec): string {
  const flag = `--${name}${spec.type === 'string' ? ` <${'placeholder' in spec && spec.placeholder ? spec.placeholder : 'value'}>` : ''}`;
  const short = spec.short ? `-${spec.short}, ` : '    ';
  const def = spec.default !== undefined && spec.default !== false ? ` (default: ${String(spec.default)})` : '';
  return `  ${short}${flag.padEnd(30)} ${spec.description}${def}`;
}

export function commandHelp(program: string, cmd: CliCommand): string {
  const lines = [`Usage: ${program} ${cmd.path.join(' ')}${cmd.args ? ' ' + cmd.args : ''} [options]`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  lines.push('', 'Options:');
  for (const [name, spec] of Object.entries(cmd.options)) lines.push(optionLine(name, spec));
  lines.push(optionLine('help', { type: 'boolean', description: 'show this help', short: 'h' }));
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function programHelp(program: string, commands: readonly CliCommand[], preamble: string, footer = ''): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length + (c.args ? c.args.length + 1 : 0))) + 2;
  const lines = [preamble, '', `Usage: ${program} <command> [options]`, '', 'Commands:'];
  for (const c of commands) lines.push(`  ${(c.path.join(' ') + (c.args ? ' ' + c.args : '')).padEnd(width)} ${c.summary}`);
  lines.push('', `Run '${program} <command> --help' for a command's options.`);
  if (footer) lines.push('', footer);
  return lines.join('\n') + '\n';
}

/** Finds the command whose path is the longest prefix of argv. */
export function matchCommand(commands: readonly CliCommand[], argv: readonly string[]): { cmd: CliCommand; rest: string[] } | undefined {
  let best: { cmd: CliCommand; rest: string[] } | undefined;
  for (const cmd of commands) {
    if (cmd.path.every((w, i) => argv[i] === w) && (!best || cmd.path.length > best.cmd.path.length)) {
      best = { cmd, rest: argv.slice(cmd.path.length) };
    }
  }
  return best;
}

export function parseCommandArgs(cmd: CliCommand, rest: string[]): { options: Record<string, unknown>; positionals: string[]; help: boolean } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(cmd.options)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(cmd.options)) {
    values[name] = (parsed.values as Record<string, unknown>)[name] ?? spec.default ?? (spec.type === 'boolean' ? false : undefined);
  }
  return { options: values, positionals: parsed.positionals, help: parsed.values['help'] === true };
}

export async function runCli(program: string, commands: readonly CliCommand[], argv: string[], io: CliIo, preamble: string): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(programHelp(program, commands, preamble));
    return argv.length === 0 ? 2 : 0;
  }
  const found = matchCommand(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      io.out(programHelp(program, group, `Commands under '${argv[0]}':`));
      return argv.length === 1 ? 2 : 0;
    }
    if (group.length > 0) {
      io.err(`${program} ${argv[0]}: unknown subcommand "${argv[1] ?? ''}"\n\n` + programHelp(program, group, `Commands under '${argv[0]}':`));
    } else {
      io.err(`${program}: unknown command "${argv[0]}"\n\n` + programHelp(program, commands, preamble));
    }
    return 2;
  }
  try {
    if (found.cmd.passThrough) {
      return (await found.cmd.run({ options: {} as never, positionals: found.rest, io })) ?? 0;
    }
    const { options, positionals, help } = parseCommandArgs(found.cmd, found.rest);
    if (help) {
      io.out(commandHelp(program, found.cmd));
      return 0;
    }
    const code = await found.cmd.run({ options: options as never, positionals, io });
    return code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${program} ${found.cmd.path.join(' ')}: ${e.message}\nRun '${program} ${found.cmd.path.join(' ')} --help' for usage.\n`);
      return 2;
    }
    io.err(`${program} ${found.cmd.path.join(' ')}: ${(e as Error).message}\n`);
    return 1;
  }
}
