// Worker-thread entry of the report screen (see ReportScreenThread): receives batches of report
// bytes, answers each with its ScreenBatch, typed arrays transferred rather than copied.
import { parentPort } from 'node:worker_threads';
import { ReportScreen } from './report-screen';

interface ScreenRequest {
  id: number;
  buf: Uint8Array;
  offsets: Int32Array;
}

const screen = new ReportScreen();
const port = parentPort!;
port.on('message', (req: ScreenRequest) => {
  const bytes: Uint8Array[] = [];
  for (let i = 0; i + 1 < req.offsets.length; i++) bytes.push(req.buf.subarray(req.offsets[i]!, req.offsets[i + 1]!));
  const batch = screen.screen(bytes);
  const arrays = [batch.kinds, batch.seqs, batch.sameAs, batch.offsets, batch.runStates, batch.elapsed];
  port.postMessage({ id: req.id, batch }, arrays.map((a) => a.buffer as ArrayBuffer));
});
