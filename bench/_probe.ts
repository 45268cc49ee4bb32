import { streamTemplates, buildBatch } from './lib/workload';
import { writeFileSync } from 'node:fs';
let sql = `LOAD 'auto_explain';\nSET auto_explain.log_min_duration = 0;\nSET auto_explain.log_nested_statements = on;\nSET auto_explain.log_analyze = on;\nSET client_min_messages = log;\n\\timing on\n`;
for (let i = 0; i < 6; i++) {
  const tpl = streamTemplates(`probe-x${i}`);
  sql += `SELECT * FROM fv_append_to_stream('worker-probe-x${i}', '0', $j$${JSON.stringify(buildBatch(tpl, 0, 100))}$j$::jsonb);\n`;
}
writeFileSync('/tmp/probe.sql', sql);
