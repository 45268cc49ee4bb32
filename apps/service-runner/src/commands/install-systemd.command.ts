import { userInfo } from 'node:os';
import path from 'node:path';
import { defineCliCommand } from '@fleetvisor/platform';
import { writeFileAtomic } from '../home/atomic-file';
import { renderEnvironmentFile, renderSystemdUnit, RUNNER_NODE_FLAGS } from '../systemd/systemd-unit';
import { directoryOption, setup } from './common';

export const installSystemdCommand = defineCliCommand({
  path: ['install-systemd'],
  summary: 'write a systemd unit that runs `fleetvisor start` for this home (checked with systemd-analyze verify when present)',
  description: 'Writes the unit file (default <home>/fleetvisor-runner.service); link or copy it into /etc/systemd/system and `systemctl enable --now` it.',
  options: {
    ...directoryOption,
    output: { type: 'string', description: 'where to write the unit', placeholder: 'file' },
    user: { type: 'string', description: 'User= of the unit (default: the current user)', placeholder: 'name' },
  },
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
      user: ctx.options.user ?? userInfo().username,
      workingDirectory: home.root,
      environmentFile: envFile,
      stopGraceMs: config.tuning.stopGraceMs,
    });
    const out = path.resolve(ctx.options.output ?? path.join(home.root, 'fleetvisor-runner.service'));
    writeFileAtomic(out, unit);
    ctx.io.out(`wrote ${out}\n  sudo ln -s ${out} /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable --now ${path.basename(out)}\n`);
    return 0;
  },
});
