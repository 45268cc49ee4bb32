// The push subject on NATS: fleet.cmd.stats-collector.push.<source> (ADR 0006, a scoped command,
// served by the controller with scope 'scoped'): the last token is the identity the NATS
// permissions let publish there, and PushIntake checks the body names the same source.
import { StatsPush, type Subjects } from '@fleetvisor/contracts';

/** The subject a source pushes on. */
export function pushSubject(subjects: Subjects, source: string): string {
  return subjects.scopedCommand(StatsPush.service, StatsPush.verb, source);
}
