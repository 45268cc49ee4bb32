import { userInfo } from 'node:os';
import path from 'node:path';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { writeFileAtomic } from '../home/atomic-file';
import { renderEnvironmentFile, renderSystemdUnit, RUNNER_NODE_FLAGS } from '../systemd/systemd-unit';
import { directoryOption, setup } from './common';

/** The current user, unless that is root: a runner never runs as root under systemd. */
function defaultUser(): string {
  const name = userInfo().username;
  if (name === 'root') throw new UsageError('this shell runs as root: give the user the runner runs as (--user lava), never root');
  return name;
}

export const installSystemdCommand = defineCliCommand({
  path: ['install-systemd', 'service-runner'],
  summary: 'write a hardened systemd unit that runs `fleetvisor start` for this home',
  description: 'Writes the unit file (default <home>/fleetvisor-runner.service); link or copy it into /etc/systemd/system and `systemctl enable --now` it.',
  options: {
    ...directoryOption,
    output: { type: 'string', description: 'where to write the unit', placeholder: 'file' },
    user: { type: 'string', description: 'User= of the unit (default: the current user; never root)', placeholder: 'name' },
    'read-write': { type: 'list', description: 'a directory the supervised services write besides the home (their own home, e.g. ~/.lava); repeatable', placeholder: 'dir' },
  },
  examples: ['fleetvisor install-systemd service-runner --directory /var/lib/fleetvisor/runner --user lava --read-write /home/lava/.lava'],
  async run(ctx) {
    const { config, home } = setup(ctx.options.directory);
    // The unit runs the same program this command runs from (`fleetvisor`, compiled), so the
    // service is started exactly as an operator would start it by hand.
    const program = path.resolve(process.argv[1] ?? '');
    home.ensureLayout();
    const envFile = path.join(home.root, 'runner.env');
    writeFileAtomic(
      envFile,
      renderEnvironmentFile({
        FLEETVISOR_HOST: config.core.host,
        // No database setting: a host holds only its NATS credentials (ADR 0006).
        FLEETVISOR_NATS_URL: config.core.natsUrl,
        // As the operator gave them (a password, or the file that holds it; TLS files): the URLs
        // above are the config's, without credentials, so these must come along.
        ...config.connectionSettings,
        FLEETVISOR_SUBJECT_ROOT: config.core.subjectRoot,
        FLEETVISOR_EVENT_STREAM: config.core.eventStreamName,
        FLEETVISOR_LOG_FORMAT: 'json',
        ...(config.secretsKeyFile ? { FLEETVISOR_SECRETS_KEY_FILE: config.secretsKeyFile } : {}),
      }),
      0o600,
    );
    const unit = renderSystemdUnit({
      // A small young generation: the runner allocates little once started (RUNNER_NODE_FLAGS, README).
      execStart: [process.execPath, ...RUNNER_NODE_FLAGS, program, 'start', '--directory', config.directory],
      user: ctx.options.user ?? defaultUser(),
      workingDirectory: home.root,
      environmentFile: envFile,
      stopGraceMs: config.tuning.stopGraceMs,
      readWritePaths: ctx.options['read-write'].map((p) => path.resolve(p)),
    });
    const out = path.resolve(ctx.options.output ?? path.join(home.root, 'fleetvisor-runner.service'));
    writeFileAtomic(out, unit);
    ctx.io.out(`wrote ${out}\n  sudo ln -s ${out} /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable --now ${path.basename(out)}\n`);
    return 0;
  },
});
