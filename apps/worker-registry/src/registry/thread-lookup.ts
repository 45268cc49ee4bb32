// The not_found answers about a worker's threads, naming the threads it has.
import { CommandErrorCodes } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging';
import type { ThreadRecord, WorkerAggregate } from '../domain/worker-state';

/** 0-3, 5, 7-15 */
export function describeIndexes(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** The thread `index` of a worker, or not_found listing its threads. */
export function threadOf(name: string, agg: WorkerAggregate, index: number): ThreadRecord {
  const t = agg.threads.get(index);
  if (!t) {
    const indexes = [...agg.threads.keys()];
    throw new CommandFailure(
      CommandErrorCodes.notFound,
      indexes.length === 0 ? `worker ${name} has no threads` : `worker ${name} has no thread #${index}; threads: ${describeIndexes(indexes)}`,
    );
  }
  return t;
}

/** not_found for a history question about an index the worker never had. */
export function unknownIndex(name: string, agg: WorkerAggregate): CommandFailure {
  const indexes = [...agg.threads.keys()];
  return new CommandFailure(
    CommandErrorCodes.notFound,
    indexes.length === 0 ? `worker ${name} has no threads` : `worker ${name} has no thread with that index; threads: ${describeIndexes(indexes)}`,
  );
}
