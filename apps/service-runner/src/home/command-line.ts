// Splitting a command line given as one string (wrap/pod --cmd, a unit file's ExecStart).
import { UsageError } from '@fleetvisor/platform';

/** Splits a command line on whitespace, honouring single and double quotes (no shell expansion). */
export function splitCommandLine(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let has = false;
  for (const ch of cmd) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (quote) throw new UsageError('unbalanced quote in --cmd');
  if (has || cur) out.push(cur);
  return out;
}
