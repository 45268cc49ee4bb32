// Every NATS subject Fleetvisor uses is built here, and only here.
//   events:      <root>.evt.<area>.<streamId>.<Type>      e.g. fleet.evt.chain.lava-testnet-2.VersionChanged
//   commands:    <root>.cmd.<service>.<verb>              e.g. fleet.cmd.worker-registry.pause
//   addressed:   <root>.cmd.<service>.<instance>.<verb>   e.g. fleet.cmd.worker-agent.w-01.pause
//   scoped:      <root>.cmd.<service>.<verb>.<scope>      e.g. fleet.cmd.worker-registry.report.w-01
//                (the sender's identity is the last token, so a NATS permission can scope who may send it)
//   dead letter: <root>.dlq.<consumer>                    malformed or poison messages
// The root is `fleet` in production; test suites use their own root so that their JetStream
// streams never overlap the shared server's.
import { STREAM_AREAS, type StreamArea } from './define-event';

const TOKEN_UNSAFE = /[.*>%\s]/gu;

/**
 * Escapes what a NATS subject token cannot hold ('.', '*', '>', whitespace) and '%' itself, as
 * `%XX` per UTF-8 byte (uppercase hex), so `%2E` is '.', `%20` is ' ', `%E3%80%80` is U+3000.
 * Every other character is kept as is. Throws on an empty value (an empty token is not a subject).
 */
export function encodeSubjectToken(value: string): string {
  if (value.length === 0) throw new Error('subject token must not be empty');
  return value.replace(TOKEN_UNSAFE, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** Inverse of encodeSubjectToken. */
export function decodeSubjectToken(token: string): string {
  return token.replace(/(?:%[0-9A-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** Splits a stream name `<area>-<id>` into its area and id. */
export function parseStreamName(stream: string): { area: StreamArea; id: string } {
  const dash = stream.indexOf('-');
  const area = stream.slice(0, dash) as StreamArea;
  const id = stream.slice(dash + 1);
  if (dash <= 0 || !STREAM_AREAS.includes(area) || id.length === 0) {
    throw new Error(`invalid stream name "${stream}": expected <area>-<id> with area one of ${STREAM_AREAS.join(', ')}`);
  }
  return { area, id };
}

export function streamName(area: StreamArea, id: string): string {
  return `${area}-${id}`;
}

const ROOT_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

export interface Subjects {
  readonly root: string;
  /** Subject of one event, from its stream name and type. */
  event(stream: string, type: string): string;
  /** Wildcard for every event (what the FLEET_EVENTS stream captures). */
  allEvents(): string;
  /** Filter: events of an area, optionally one stream id and/or one type. */
  eventFilter(opts: { area?: StreamArea; streamId?: string; type?: string }): string;
  command(service: string, verb: string): string;
  /** A command addressed to one instance of a service (e.g. one worker-agent): <root>.cmd.<service>.<instance>.<verb>. */
  instanceCommand(service: string, instance: string, verb: string): string;
  allCommands(service: string): string;
  /** A command sent for one identity (a worker, a host, a stats source): <root>.cmd.<service>.<verb>.<scope>. */
  scopedCommand(service: string, verb: string, scope: string): string;
  /** What the server of a scoped command subscribes: <root>.cmd.<service>.<verb>.* */
  scopedCommandWildcard(service: string, verb: string): string;
  deadLetter(consumer: string): string;
  allDeadLetters(): string;
}

export function createSubjects(root = 'fleet'): Subjects {
  if (!ROOT_PATTERN.test(root)) throw new Error(`invalid subject root "${root}": lowercase letters, digits, _`);
  return {
    root,
    event(stream, type) {
      const { area, id } = parseStreamName(stream);
      return `${root}.evt.${area}.${encodeSubjectToken(id)}.${encodeSubjectToken(type)}`;
    },
    allEvents: () => `${root}.evt.>`,
    eventFilter({ area, streamId, type }) {
      return `${root}.evt.${area ?? '*'}.${streamId ? encodeSubjectToken(streamId) : '*'}.${type ? encodeSubjectToken(type) : '*'}`;
    },
    command: (service, verb) => `${root}.cmd.${encodeSubjectToken(service)}.${encodeSubjectToken(verb)}`,
    instanceCommand: (service, instance, verb) =>
      `${root}.cmd.${encodeSubjectToken(service)}.${encodeSubjectToken(instance)}.${encodeSubjectToken(verb)}`,
    allCommands: (service) => `${root}.cmd.${encodeSubjectToken(service)}.*`,
    scopedCommand: (service, verb, scope) => `${root}.cmd.${encodeSubjectToken(service)}.${encodeSubjectToken(verb)}.${encodeSubjectToken(scope)}`,
    scopedCommandWildcard: (service, verb) => `${root}.cmd.${encodeSubjectToken(service)}.${encodeSubjectToken(verb)}.*`,
    deadLetter: (consumer) => `${root}.dlq.${encodeSubjectToken(consumer)}`,
    allDeadLetters: () => `${root}.dlq.>`,
  };
}

export const subjects = createSubjects();
