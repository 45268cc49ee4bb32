// Dead letters: a message that cannot be handled is parked on `<root>.dlq.<consumer>` (captured by
// the dead-letter stream) with headers saying why and where it came from, so the original stream
// keeps flowing and an operator can inspect or replay it.
import { headers, type JetStreamClient, type PubAck } from 'nats';

export const DeadLetterHeaders = {
  reason: 'Fleet-Dlq-Reason',
  originalSubject: 'Fleet-Dlq-Subject',
  consumer: 'Fleet-Dlq-Consumer',
  stream: 'Fleet-Dlq-Stream',
  streamSequence: 'Fleet-Dlq-Stream-Seq',
  deliveries: 'Fleet-Dlq-Deliveries',
  eventId: 'Fleet-Dlq-Event-Id',
  kind: 'Fleet-Dlq-Kind',
} as const;

export type DeadLetterKind = 'malformed' | 'handler_failed' | 'unpublishable';

export interface DeadLetterInfo {
  kind: DeadLetterKind;
  reason: string;
  originalSubject: string;
  consumer: string;
  stream?: string;
  streamSequence?: number;
  deliveries?: number;
  eventId?: string;
}

/** Header values are one line of printable text; long reasons are cut. */
export function headerValue(v: string, max = 1_000): string {
  const oneLine = v.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return oneLine.length > max ? oneLine.slice(0, max - 1) + '…' : oneLine;
}

export async function publishDeadLetter(
  js: JetStreamClient,
  subject: string,
  payload: Uint8Array,
  info: DeadLetterInfo,
  opts: { timeoutMs?: number } = {},
): Promise<PubAck> {
  const h = headers();
  h.set(DeadLetterHeaders.kind, info.kind);
  h.set(DeadLetterHeaders.reason, headerValue(info.reason) || 'unknown');
  h.set(DeadLetterHeaders.originalSubject, headerValue(info.originalSubject));
  h.set(DeadLetterHeaders.consumer, headerValue(info.consumer));
  if (info.stream !== undefined) h.set(DeadLetterHeaders.stream, info.stream);
  if (info.streamSequence !== undefined) h.set(DeadLetterHeaders.streamSequence, String(info.streamSequence));
  if (info.deliveries !== undefined) h.set(DeadLetterHeaders.deliveries, String(info.deliveries));
  if (info.eventId !== undefined) h.set(DeadLetterHeaders.eventId, headerValue(info.eventId, 200));
  // Same source message dead-lettered twice (e.g. ack lost) is stored once.
  const msgID =
    info.stream !== undefined && info.streamSequence !== undefined
      ? `dlq:${info.consumer}:${info.stream}:${info.streamSequence}`
      : info.eventId !== undefined
        ? `dlq:${info.consumer}:${info.eventId}`
        : undefined;
  return js.publish(subject, payload, { headers: h, ...(msgID ? { msgID } : {}), ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}) });
}
