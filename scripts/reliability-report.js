#!/usr/bin/env node
// Writes the fault suite's own figures into docs/reliability.md: `npm run test:faults` leaves
// tmp/faults-report.json (each fault, the events checked, lost/doubled counts, recovery times);
// this renders it as the table between the `faults-report` markers of the page, so the page says
// what the last run measured, never numbers typed by hand.
//   node scripts/reliability-report.js [report.json] [page.md]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const reportFile = process.argv[2] ?? path.join(root, 'tmp', 'faults-report.json');
const pageFile = process.argv[3] ?? path.join(root, 'docs', 'reliability.md');
const START = '<!-- faults-report:start -->';
const END = '<!-- faults-report:end -->';

const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const ok = (f) =>
  f.bus.lost === 0 && f.bus.doubled === 0 && f.bus.foreign === 0 && f.bus.outOfOrder === 0 &&
  f.consumers.every((c) => c.pending === 0 && c.ackPending === 0) && f.projection.mismatches === 0 &&
  (f.statsProjection?.mismatches ?? 0) === 0 && (!f.calls || (f.calls.lost === 0 && f.calls.doubled === 0 && f.calls.doubledBatches === 0)) &&
  (!f.takeover || (f.takeover.lockMs <= f.takeover.boundMs && f.takeover.oldLeaderStandsBy)) &&
  f.doubleExecution.doubled === 0 && (f.liveness?.doubled ?? 0) === 0 && f.supervised.every((s) => s.ok);
const rowsOf = (p) => (p ? Object.values(p.rows).reduce((a, b) => a + b, 0) : 0);
const callsCell = (c) => (c ? `${c.callsMade} / ${c.callsInLog} / ${c.lost}${c.lostByDesign ? ` (+${c.lostByDesign} by design)` : ''} / ${c.doubled + c.doubledBatches}` : '—');

const lines = [];
lines.push(`Run of ${report.startedAt} to ${report.finishedAt ?? '(unfinished)'}; hosts ${report.cluster.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}; expiry ${report.cluster.expiryMs} ms.`);
lines.push('');
lines.push('| fault | down | recovery | standby took over | events in the log | on the bus | lost | doubled | foreign | out of order | consumers behind | registry rows differing | stats rows differing | calls made / in the log / lost / doubled | executed twice | liveness transitions doubled | services stopped or replaced | all checks |');
lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const f of report.faults) {
  const behind = f.consumers.filter((c) => c.pending > 0 || c.ackPending > 0).length;
  const replaced = f.supervised.filter((s) => !s.ok).map((s) => `${s.host} (pid ${s.pidBefore}→${s.pidAfter}, ${s.starts} starts for ${s.upgrades} upgrades)`);
  lines.push(
    `| ${f.fault} | ${secs(f.downMs)} | ${secs(f.recoveryMs)} | ${f.takeover ? `${secs(f.takeover.lockMs)} (bound ${secs(f.takeover.boundMs)})` : '—'} | ${f.bus.logEvents} | ${f.bus.busMessages} | ${f.bus.lost} | ${f.bus.doubled} | ${f.bus.foreign} | ${f.bus.outOfOrder} | ${behind} of ${f.consumers.length} | ${f.projection.mismatches} of ${rowsOf(f.projection)} | ${f.statsProjection ? `${f.statsProjection.mismatches} of ${rowsOf(f.statsProjection)}` : '—'} | ${callsCell(f.calls)} | ${f.doubleExecution.doubled} | ${f.liveness?.doubled ?? 0} | ${replaced.length === 0 ? 'none' : replaced.join('; ')} | ${ok(f) ? 'pass' : '**fail**'} |`,
  );
}
lines.push('');
lines.push('What each fault was, and how to run it alone:');
lines.push('');
for (const f of report.faults) {
  const restarts = (f.autoRestarts ?? []).map((r) => `${r.name} (${r.exit})`);
  const t = f.takeover;
  const takeover = t ? `${t.to} held the leader lock ${secs(t.lockMs)} after the kill${t.servingMs !== undefined ? ` and served ${secs(t.servingMs)} after it` : ''}; ${t.from}, started again, ${t.oldLeaderStandsBy ? 'stood by' : 'did not stand by'}.` : '';
  const said = [f.description + '.', f.versionBump ? `Version bump: ${f.versionBump}.` : '', takeover, ...f.notes.map((n) => `${n}.`), restarts.length ? `Restarted by the restart policy after exiting on their own: ${restarts.join(', ')}.` : ''];
  lines.push(`- **${f.fault}**: ${said.filter(Boolean).join(' ')} \`${f.reproduce}\``);
}

const page = fs.readFileSync(pageFile, 'utf8');
const a = page.indexOf(START);
const b = page.indexOf(END);
if (a < 0 || b < a) throw new Error(`${pageFile} has no ${START} … ${END} section`);
fs.writeFileSync(pageFile, `${page.slice(0, a + START.length)}\n${lines.join('\n')}\n${page.slice(b)}`);
process.stdout.write(`wrote ${report.faults.length} faults into ${path.relative(root, pageFile)}\n`);
