// @fleetvisor/platform/cli: a program's command line alone (commands, --help, exit codes, progress),
// for entry points that must start fast: it loads no logger, no Nest and no config readers beyond
// what run-main needs.
export * from './cli-framework';
export * from './progress-bar';
export * from './run-main';
export * from './gateway-remote';
