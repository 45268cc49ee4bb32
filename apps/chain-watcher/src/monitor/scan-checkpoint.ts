// How far a chain's history has been scanned, kept as a named checkpoint (fv_checkpoints, not an
// event: it says nothing new about the chain), so a restart or a takeover resumes after it instead of
// after the last change on the record, which may be thousands of blocks back.
//
// Saved only at a height whose Params were read and equal the version on the record: every change up
// to there is on the record. It carries the stream version of that record, so a log that holds less
// than it did then (a database restored to an earlier point than the checkpoint) shows the
// checkpoint is not to be trusted. Even a trusted one is checked: the blocks it skips are resumed as
// unseen, so Params at the first block after it are compared with the record, and a difference is
// bisected from the last height on the record. Pure: the monitor loads, saves and acts on it.

/** Named checkpoints (the event store's CheckpointStore). */
export const scanCheckpointName = (chainId: string): string => `chain-watcher:scanned:${chainId}`;

export interface ScanCheckpoint {
  /** Every change up to this height is on the record. */
  height: number;
  /** Events in chain-<chainId> when it was saved. */
  streamVersion: number;
}

// The store keeps `<integer>:<integer>`: here `<height>:<stream version>`.
const PATTERN = /^(\d{1,15}):(\d{1,15})$/;

export function formatScanCheckpoint(c: ScanCheckpoint): string {
  return `${c.height}:${c.streamVersion}`;
}

/** The checkpoint in a stored value; undefined for a value this code did not write. */
export function parseScanCheckpoint(value: string): ScanCheckpoint | undefined {
  const m = PATTERN.exec(value);
  return m ? { height: Number(m[1]), streamVersion: Number(m[2]) } : undefined;
}

export interface ResumePoint {
  /** The last height accounted for: scanning goes on from the block after it. */
  from: number;
  /** Blocks skipped on the checkpoint's word: Params at the first block after them are checked against the record. */
  unverified?: { from: number; to: number };
  /** Why the checkpoint was not used, when it would have moved the start. */
  ignored?: string;
}

/** Where a new leader resumes: after the last height on the record, or after the checkpoint when it can be trusted. */
export function resumePoint(log: { lastHeight: number; streamVersion: number; hasVersion: boolean }, checkpoint: ScanCheckpoint | undefined): ResumePoint {
  const from = log.lastHeight;
  if (!checkpoint || checkpoint.height <= from) return { from };
  if (checkpoint.streamVersion > log.streamVersion) {
    return { from, ignored: `saved when chain-<id> had ${checkpoint.streamVersion} events, it has ${log.streamVersion}: the log is behind the checkpoint` };
  }
  // Without a version on the record, Params cannot be checked against it.
  if (!log.hasVersion) return { from, ignored: 'no version on the record to check it against' };
  return { from: checkpoint.height, unverified: { from: from + 1, to: checkpoint.height } };
}
