// The fault suite's own settings, read from the environment in this one place (the lint allows
// process.env only in config.ts files).
import { envReader, type Env } from '@fleetvisor/platform';

export interface ClusterTestConfig {
  /** FLEETVISOR_TEST_KEEP_CLUSTER_DIR=1: leave the cluster's folder (logs, homes, stores) after the run, to read what happened. */
  keepClusterDir: boolean;
  /** FLEETVISOR_TEST_FAULTS_REPORT: where the suite writes its JSON report (default tmp/faults-report.json). */
  faultsReport: string | undefined;
}

export function readClusterTestConfig(env: Env = process.env): ClusterTestConfig {
  const r = envReader(env);
  return { keepClusterDir: r.bool('FLEETVISOR_TEST_KEEP_CLUSTER_DIR', false), faultsReport: r.optionalString('FLEETVISOR_TEST_FAULTS_REPORT') };
}
