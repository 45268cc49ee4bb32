// natsReportSender against the real NATS server: the same request-reply a worker-agent does, with
// one reply subscription for every request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import type { WorkerReport } from '@fleetvisor/contracts';
import { sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { natsReportSender, type ReportReply } from './sealing-load';

let nc: NatsConnection;
const root = testBusNames().subjectRoot;
const subject = `${root}.cmd.worker-registry.report`;

function report(name: string): WorkerReport {
  return {
    name,
    dest: '10.0.0.1:17890',
    version: '1.0.0',
    bootId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    sentAt: new Date().toISOString(),
    threads: [{ index: 0, plan: 'sealer', threadState: 'idle', elapsedMs: 1, state: 'Empty' }],
    transitions: [],
  };
}

beforeAll(async () => {
  nc = await connect({ servers: sharedNatsUrl() });
});

afterAll(async () => {
  await nc?.close();
});

describe('natsReportSender', () => {
  it('sends each report as JSON with a reply subject and matches every reply to its request', async () => {
    const seen: string[] = [];
    // A registry stand-in that answers out of order: the later request first.
    const held: { name: string; respond: (data: Uint8Array) => boolean }[] = [];
    const sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        const r = JSON.parse(new TextDecoder().decode(msg.data)) as WorkerReport;
        seen.push(r.name);
        held.push({ name: r.name, respond: (d) => msg.respond(d) });
        if (held.length === 2) {
          for (const h of [...held].reverse()) {
            h.respond(new TextEncoder().encode(JSON.stringify({ ok: true, result: { appended: h.name === 'w-1' ? 1 : 2, acceptedSeq: 0 } })));
          }
        }
      },
    });
    await nc.flush();
    const send = natsReportSender(nc, subject, { timeoutMs: 5_000 });
    try {
      const [a, b] = await Promise.all([send(report('w-1')), send(report('w-2'))]);
      expect(seen).toEqual(['w-1', 'w-2']);
      expect(a).toEqual({ ok: true, result: { appended: 1, acceptedSeq: 0 } });
      expect(b).toEqual({ ok: true, result: { appended: 2, acceptedSeq: 0 } });
    } finally {
      send.close();
      sub.unsubscribe();
    }
  });

  it('answers unavailable when nothing serves the subject, timeout when nothing replies, and settles what is pending on close', async () => {
    const send = natsReportSender(nc, `${root}.cmd.nobody.report`, { timeoutMs: 300, sweepMs: 20 });
    try {
      const none: ReportReply = await send(report('w-1'));
      expect(none).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    } finally {
      send.close();
    }

    // Subscribed but silent: the sweep times the request out.
    const silent = nc.subscribe(`${root}.cmd.silent.report`, { callback: () => undefined });
    await nc.flush();
    const slow = natsReportSender(nc, `${root}.cmd.silent.report`, { timeoutMs: 200, sweepMs: 20 });
    try {
      const t0 = Date.now();
      expect(await slow(report('w-1'))).toMatchObject({ ok: false, error: { code: 'timeout' } });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);

      // Closing settles a request still waiting, instead of leaving it hanging.
      const long = natsReportSender(nc, `${root}.cmd.silent.report`, { timeoutMs: 60_000 });
      const pending = long(report('w-2'));
      long.close();
      expect(await pending).toMatchObject({ ok: false, error: { code: 'unavailable', message: 'report sender closed' } });
    } finally {
      slow.close();
      silent.unsubscribe();
    }
  });

  it('turns a reply that is not a CommandReply into an internal error', async () => {
    const sub = nc.subscribe(`${root}.cmd.garbled.report`, { callback: (_err, msg) => msg.respond(new TextEncoder().encode('{"no":')) });
    await nc.flush();
    const send = natsReportSender(nc, `${root}.cmd.garbled.report`, { timeoutMs: 5_000 });
    try {
      expect(await send(report('w-1'))).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/not valid JSON/) } });
    } finally {
      send.close();
      sub.unsubscribe();
    }
  });
});
