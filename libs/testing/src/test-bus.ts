// Per-suite bus names, so suites sharing one NATS server never see each other's messages.
import { randomBytes } from 'node:crypto';
import { readTestingConfig } from './config';

export interface TestBusNames {
  /** Subject root, e.g. `t3f9a1c2` -> subjects `t3f9a1c2.evt.>` */
  subjectRoot: string;
  /** JetStream stream for events. */
  eventStreamName: string;
}

export function testBusNames(): TestBusNames {
  const tag = randomBytes(4).toString('hex');
  return { subjectRoot: `t${tag}`, eventStreamName: `T_${tag.toUpperCase()}_EVENTS` };
}

export function sharedNatsUrl(): string {
  return readTestingConfig().natsUrl;
}
