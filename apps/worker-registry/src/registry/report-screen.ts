// ReportScreen: the part of taking a report that needs no registry state, so it can run off the
// registry's event loop (report-screen.thread.ts): JSON.parse, the schema check, checkReport, and
// "does this report say anything the worker's last valid report did not?".
//
// A report is `same` as the worker's previous valid report when it has no transitions and the same
// boot id, dest, version, reachability, command count and threads (index, plan, state, sector, location, paused). decideReport
// reads nothing else of a report unless it emits an event, so for a worker whose recorded state is
// still the one that previous report left (the registry checks that: see WorkerRegistry.screened),
// a `same` report yields no events: only its volatile part (run state, elapsed, stage, last error)
// matters, and that is all the screen hands over for it, in typed arrays. Any other valid report is
// `full` (the registry parses the bytes itself and decides as usual); an invalid one carries the
// reason the registry replies with and dead-letters.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { THREAD_RUN_STATES, WorkerReportCommand, type WorkerReport } from '@fleetvisor/contracts';
import { checkReport } from '../domain/report-decision';
import { NO_REPORT as NO_RUN_STATE } from '../domain/worker-view';

/**
 * The report schema, compiled here rather than through @fleetvisor/messaging's validationError: the
 * messaging library (Nest, nats, pg) costs tens of MB of RSS in a thread that needs none of it. The
 * refusal text is validationError's (`report at /path: message`; a unit test compares them).
 */
const REPORT_CHECK = TypeCompiler.Compile(WorkerReportCommand.request);
function schemaProblem(value: unknown): string | undefined {
  if (REPORT_CHECK.Check(value)) return undefined;
  const err = REPORT_CHECK.Errors(value).First();
  if (!err) return 'report is invalid';
  return `report${err.path ? ` at ${err.path}` : ''}: ${err.message}`;
}
const RUN_STATE_CODE = new Map<string, number>(THREAD_RUN_STATES.map((s, i) => [s, i]));

export const SCREEN_INVALID = 0;
export const SCREEN_FULL = 1;
export const SCREEN_SAME = 2;

/** The screen's verdicts on a batch of reports, columnar (cheap to post between threads). */
export interface ScreenBatch {
  /** SCREEN_INVALID | SCREEN_FULL | SCREEN_SAME per report. */
  kinds: Uint8Array;
  /** Worker name (valid reports; for an invalid one the `name` it carried, if any, cut to 100 chars). */
  names: (string | undefined)[];
  /** Refusal reason of an invalid report. */
  reasons: (string | undefined)[];
  /** Number the screen gave this report among its worker's valid reports (1, 2, ...); 0 if invalid. */
  seqs: Float64Array;
  /** For a `same` report, the seq of the report it repeats (the previous one); else 0. */
  sameAs: Float64Array;
  /** Volatile part of `same` reports: their threads' slots start at offsets[i] and end at offsets[i + 1]. */
  offsets: Int32Array;
  runStates: Uint8Array;
  /** elapsedMs per thread, NaN when absent. */
  elapsed: Float64Array;
  /** For a `same` report whose stage or last error of some thread changed: [stage0, error0, stage1, error1, ...]; else undefined (as before). */
  texts: ((string | undefined)[] | undefined)[];
}

interface Previous {
  seq: number;
  signature: string;
  texts: (string | undefined)[];
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What decideReport reads of a report that yields no events (transitions aside). */
function signatureOf(r: WorkerReport): string {
  let s = `${r.bootId}\u0001${r.dest}\u0001${r.version}\u0001${r.threads.length}\u0001${r.unreachable === undefined ? 0 : 1}\u0001${r.controls ?? ''}`;
  for (const t of r.threads) {
    s += `\u0002${t.index}\u0003${t.plan}\u0003${t.state}\u0003${t.sectorId === undefined ? '\u0004' : t.sectorId}\u0003${
      t.location === undefined ? '\u0004' : t.location
    }\u0003${t.threadState === 'paused' ? 1 : 0}`;
  }
  return s;
}

export class ReportScreen {
  private readonly previous = new Map<string, Previous>();

  /** Workers the screen remembers (one entry each). */
  get size(): number {
    return this.previous.size;
  }

  /** Screens reports in arrival order: `bytes[i]` is one report's message body. */
  screen(bytes: readonly Uint8Array[]): ScreenBatch {
    const n = bytes.length;
    const kinds = new Uint8Array(n);
    const names: (string | undefined)[] = new Array<string | undefined>(n);
    const reasons: (string | undefined)[] = new Array<string | undefined>(n);
    const seqs = new Float64Array(n);
    const sameAs = new Float64Array(n);
    const offsets = new Int32Array(n + 1);
    const texts: ((string | undefined)[] | undefined)[] = new Array<(string | undefined)[] | undefined>(n);
    const runStates: number[] = [];
    const elapsed: number[] = [];
    for (let i = 0; i < n; i++) {
      offsets[i] = runStates.length;
      const b = bytes[i]!;
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
      } catch (e) {
        kinds[i] = SCREEN_INVALID;
        reasons[i] = `report is not valid JSON: ${errorText(e)}`;
        continue;
      }
      const problem = schemaProblem(raw) ?? checkReport(raw as WorkerReport);
      if (problem) {
        kinds[i] = SCREEN_INVALID;
        reasons[i] = problem;
        const name = (raw as { name?: unknown } | null)?.name;
        if (typeof name === 'string') names[i] = name.slice(0, 100);
        continue;
      }
      const report = raw as WorkerReport;
      names[i] = report.name;
      const prev = this.previous.get(report.name);
      const seq = (prev?.seq ?? 0) + 1;
      seqs[i] = seq;
      const signature = signatureOf(report);
      const threads = report.threads;
      const reportTexts = new Array<string | undefined>(threads.length * 2);
      for (let j = 0; j < threads.length; j++) {
        reportTexts[2 * j] = threads[j]!.stage;
        reportTexts[2 * j + 1] = threads[j]!.lastError;
      }
      if (prev && report.transitions.length === 0 && prev.signature === signature) {
        kinds[i] = SCREEN_SAME;
        sameAs[i] = prev.seq;
        for (const t of threads) {
          runStates.push(RUN_STATE_CODE.get(t.threadState) ?? NO_RUN_STATE);
          elapsed.push(t.elapsedMs ?? NaN);
        }
        let changed = false;
        for (let j = 0; j < reportTexts.length && !changed; j++) changed = reportTexts[j] !== prev.texts[j];
        if (changed) texts[i] = reportTexts;
        prev.seq = seq;
        prev.texts = reportTexts;
      } else {
        kinds[i] = SCREEN_FULL;
        this.previous.set(report.name, { seq, signature, texts: reportTexts });
      }
    }
    offsets[n] = runStates.length;
    return { kinds, names, reasons, seqs, sameAs, offsets, runStates: Uint8Array.from(runStates), elapsed: Float64Array.from(elapsed), texts };
  }
}

/** One valid report as the screen saw it, for WorkerRegistry.screened. */
export interface ScreenedReport {
  readonly name: string;
  /** The screen's number of this report among its worker's valid reports. */
  readonly seq: number;
  /** Seq of the report this one repeats (see ReportScreen), or 0 when it must be decided in full. */
  readonly sameAs: number;
  /** The whole report, parsed from its bytes (already validated by the screen). */
  full(): WorkerReport;
  /** Volatile part of a `same` report (see ReportedThreads.updateVolatile). */
  readonly runStates: Uint8Array;
  readonly elapsed: Float64Array;
  readonly texts: readonly (string | undefined)[] | undefined;
}
