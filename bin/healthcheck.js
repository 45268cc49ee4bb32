#!/usr/bin/env node
// The container's HEALTHCHECK: GET the service's /health/ready and exit 0 on a 2xx answer, 1 on
// anything else (refused, timeout, 503). The URL is FLEETVISOR_HEALTHCHECK_URL, or derived from
// FLEETVISOR_HEALTH_LISTEN (the address the service's health server listens on), or the first
// argument. Plain node:http so the check needs nothing but Node.
'use strict';
const http = require('node:http');

function target() {
  if (process.argv[2]) return process.argv[2];
  if (process.env.FLEETVISOR_HEALTHCHECK_URL) return process.env.FLEETVISOR_HEALTHCHECK_URL;
  const listen = process.env.FLEETVISOR_HEALTH_LISTEN;
  if (listen) {
    const i = listen.lastIndexOf(':');
    const host = listen.slice(0, i);
    const port = listen.slice(i + 1);
    // A server bound to every interface answers on loopback too.
    const h = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
    return `http://${h}:${port}/health/ready`;
  }
  return undefined;
}

const url = target();
if (!url) {
  process.stderr.write('healthcheck: no FLEETVISOR_HEALTHCHECK_URL or FLEETVISOR_HEALTH_LISTEN: this process serves no health endpoint\n');
  process.exit(1);
}
const req = http.get(url, { timeout: 4000 }, (res) => {
  res.resume();
  const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
  if (!ok) process.stderr.write(`healthcheck: ${url} answered ${res.statusCode}\n`);
  process.exit(ok ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
req.on('error', (e) => {
  process.stderr.write(`healthcheck: ${url}: ${e.message}\n`);
  process.exit(1);
});
