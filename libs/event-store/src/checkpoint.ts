// Checkpoints in the global order: `<transaction_id>:<global_position>`. Parsing, formatting and
// comparing them lives here so every reader (relay, projections, CLI) orders them the same way:
// by transaction id first, because global positions commit out of order across transactions.
import { START_CHECKPOINT } from './types';

export interface CheckpointParts {
  /** xid8 of the appending transaction. */
  transactionId: bigint;
  /** bigserial position inside the log. */
  globalPosition: bigint;
}

const CHECKPOINT_PATTERN = /^(\d{1,20}):(\d{1,19})$/;
const MAX_XID8 = (1n << 64n) - 1n;
const MAX_BIGINT = (1n << 63n) - 1n;

export class InvalidCheckpointError extends Error {
  constructor(readonly checkpoint: string) {
    super(`invalid checkpoint "${checkpoint}": expected <transaction_id>:<global_position>, e.g. ${START_CHECKPOINT}`);
    this.name = 'InvalidCheckpointError';
  }
}

export function isCheckpoint(value: string): boolean {
  const m = CHECKPOINT_PATTERN.exec(value);
  return m !== null && BigInt(m[1]!) <= MAX_XID8 && BigInt(m[2]!) <= MAX_BIGINT;
}

export function parseCheckpoint(checkpoint: string): CheckpointParts {
  const m = CHECKPOINT_PATTERN.exec(checkpoint);
  if (!m) throw new InvalidCheckpointError(checkpoint);
  const transactionId = BigInt(m[1]!);
  const globalPosition = BigInt(m[2]!);
  if (transactionId > MAX_XID8 || globalPosition > MAX_BIGINT) throw new InvalidCheckpointError(checkpoint);
  return { transactionId, globalPosition };
}

/** Builds a checkpoint from the text Postgres returns for xid8 and bigint. */
export function formatCheckpoint(transactionId: string | bigint, globalPosition: string | bigint): string {
  return `${transactionId}:${globalPosition}`;
}

/** Negative when `a` comes before `b` in the global order, 0 when equal, positive after. */
export function compareCheckpoints(a: string, b: string): number {
  const pa = parseCheckpoint(a);
  const pb = parseCheckpoint(b);
  if (pa.transactionId !== pb.transactionId) return pa.transactionId < pb.transactionId ? -1 : 1;
  if (pa.globalPosition !== pb.globalPosition) return pa.globalPosition < pb.globalPosition ? -1 : 1;
  return 0;
}

export function maxCheckpoint(a: string, b: string): string {
  return compareCheckpoints(a, b) >= 0 ? a : b;
}
