// The generated permissions, read as nats-server reads them (allow, then deny): who may publish and
// subscribe what. The e2e suite under test/security runs the same configuration on a real server.
import { describe, expect, it } from 'vitest';
import { natsIdentities, renderIdentityEnv, renderNatsServerConfig, runnerDurableName, safeIdToken, NATS_MAX_PAYLOAD, type NatsIdentity } from './nats-permissions';
import { subjectMatches } from './subject-match';
import { DEFAULT_EVENT_STREAM_MAX_MSG_SIZE } from './event-stream';

const ids = natsIdentities({ hosts: ['h1', 'node.example'], workers: ['w1', 'w2'] });
const byId = (id: string): NatsIdentity => {
  const i = ids.find((x) => x.id === id);
  if (!i) throw new Error(`no identity ${id}: ${ids.map((x) => x.id).join(', ')}`);
  return i;
};
/** As nats-server decides: some allow matches and no deny does. */
const permits = (p: { allow: string[]; deny?: string[] }, subject: string): boolean =>
  p.allow.some((f) => subjectMatches(f, subject)) && !(p.deny ?? []).some((f) => subjectMatches(f, subject));
const canPublish = (id: string, subject: string): boolean => permits(byId(id).permissions.publish, subject);
const canSubscribe = (id: string, subject: string): boolean => permits(byId(id).permissions.subscribe, subject);
const everyone = () => ids.map((i) => i.id);

describe('natsIdentities', () => {
  it('has one identity per central service, host and worker, plus cli, reader and admin', () => {
    expect(everyone()).toEqual([
      'chain-watcher',
      'worker-registry',
      'stats-collector',
      'gateway',
      'runner-h1',
      `runner-${safeIdToken('node.example')}`,
      'agent-w1',
      'agent-w2',
      'cli',
      'reader',
      'admin',
    ]);
  });

  it('lets only the central services (where the relay runs) publish events', () => {
    const publishers = everyone().filter((id) => canPublish(id, 'fleet.evt.chain.lava-1.VersionChanged'));
    expect(publishers).toEqual(['chain-watcher', 'worker-registry', 'stats-collector', 'gateway']);
  });

  it("a worker's agent subscribes only its own worker's commands and publishes only its own report", () => {
    expect(canSubscribe('agent-w1', 'fleet.cmd.worker-agent.w1.pause')).toBe(true);
    expect(canSubscribe('agent-w1', 'fleet.cmd.worker-agent.w2.pause')).toBe(false);
    expect(canSubscribe('agent-w1', 'fleet.cmd.worker-agent.>')).toBe(false);
    expect(canSubscribe('agent-w1', 'fleet.evt.>')).toBe(false);
    expect(canPublish('agent-w1', 'fleet.cmd.worker-registry.report.w1')).toBe(true);
    expect(canPublish('agent-w1', 'fleet.cmd.worker-registry.report.w2')).toBe(false);
    expect(canPublish('agent-w1', 'fleet.cmd.worker-registry.report')).toBe(false);
    expect(canPublish('agent-w1', 'fleet.cmd.worker-registry.pause')).toBe(false);
    expect(canPublish('agent-w1', 'fleet.cmd.worker-agent.w2.pause')).toBe(false);
    expect(byId('agent-w1').permissions.allowResponses).toBe(true);
  });

  it("only that worker's agent may take its commands; registry, gateway and operators may send them", () => {
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.worker-agent.w1.pause'))).toEqual(['agent-w1']);
    expect(everyone().filter((id) => canPublish(id, 'fleet.cmd.worker-agent.w1.pause'))).toEqual(['worker-registry', 'gateway', 'cli']);
  });

  it('the registry hears the relayed host events (host liveness); no other central service subscribes to events outside JetStream', () => {
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.evt.host.h1.HostOffline'))).toEqual(['worker-registry', 'reader']);
    expect(canSubscribe('worker-registry', 'fleet.evt.worker.w1.ThreadPaused')).toBe(false);
  });

  it('every agent, and only agents, hears the fleet-wide proving check; operators and the gateway may ask it, an agent may not', () => {
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.worker-agent.proving-check'))).toEqual(['agent-w1', 'agent-w2']);
    expect(everyone().filter((id) => canPublish(id, 'fleet.cmd.worker-agent.proving-check'))).toEqual(['gateway', 'cli']);
    // A worker named like the query still gets only its own 5-token commands.
    const named = natsIdentities({ workers: ['proving-check'] }).find((i) => i.id === 'agent-proving-check')!;
    expect(permits(named.permissions.subscribe, 'fleet.cmd.worker-agent.proving-check.list')).toBe(true);
    expect(permits(named.permissions.subscribe, 'fleet.cmd.worker-agent.w1.list')).toBe(false);
  });

  it('only the agent of a worker may report for it (not the CLI, not the gateway)', () => {
    expect(everyone().filter((id) => canPublish(id, 'fleet.cmd.worker-registry.report.w2'))).toEqual(['agent-w2']);
  });

  it("a host's commands reach only its runner; every runner hears the read-only broadcasts", () => {
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.service-runner.h1.upgrades-rollback'))).toEqual(['runner-h1']);
    const dotted = `runner-${safeIdToken('node.example')}`;
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.service-runner.node%2Eexample.upgrades-retry'))).toEqual([dotted]);
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.service-runner.list'))).toEqual(['runner-h1', dotted]);
    expect(canSubscribe('runner-h1', 'fleet.cmd.service-runner.upgrades-rollback')).toBe(false);
    expect(canPublish('runner-h1', 'fleet.cmd.event-intake.append.h1')).toBe(true);
    expect(canPublish('runner-h1', 'fleet.cmd.event-intake.append.node%2Eexample')).toBe(false);
    // The intake is served by the chain-watcher and the registry.
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.event-intake.append.h1'))).toEqual(['chain-watcher', 'worker-registry']);
    // Its liveness heartbeat: only for its own host, heard by the registry.
    expect(canPublish('runner-h1', 'fleet.cmd.worker-registry.host-heartbeat.h1')).toBe(true);
    expect(canPublish('runner-h1', 'fleet.cmd.worker-registry.host-heartbeat.node%2Eexample')).toBe(false);
    expect(everyone().filter((id) => canSubscribe(id, 'fleet.cmd.worker-registry.host-heartbeat.h1'))).toEqual(['worker-registry']);
  });

  it("a runner pulls and acks only its own durable consumer", () => {
    const durable = runnerDurableName('h1');
    expect(durable).toBe('service-runner-h1');
    expect(canPublish('runner-h1', `$JS.API.CONSUMER.MSG.NEXT.FLEET_EVENTS.${durable}`)).toBe(true);
    expect(canPublish('runner-h1', `$JS.API.CONSUMER.CREATE.FLEET_EVENTS.${durable}.fleet.evt.chain.lava-1.VersionChanged`)).toBe(true);
    expect(canPublish('runner-h1', `$JS.ACK.FLEET_EVENTS.${durable}.1.5.5.1700000000.0`)).toBe(true);
    expect(canPublish('runner-h1', '$JS.API.CONSUMER.MSG.NEXT.FLEET_EVENTS.service-runner-h2')).toBe(false);
    expect(canPublish('runner-h1', '$JS.ACK.FLEET_EVENTS.service-runner-h2.1.5.5.1700000000.0')).toBe(false);
    expect(runnerDurableName('node.example')).toBe('service-runner-node_example');
    // Catch-up reads one message by subject; no ordered consumer (its name could be anyone's).
    expect(canPublish('runner-h1', '$JS.API.STREAM.MSG.GET.FLEET_EVENTS')).toBe(true);
    expect(canPublish('runner-h1', '$JS.API.CONSUMER.CREATE.FLEET_EVENTS.abc_1.fleet.evt.chain.lava-1.VersionChanged')).toBe(false);
  });

  it('lets no one but admin create, update, purge or delete a stream, or write the key bucket', () => {
    for (const subject of [
      '$JS.API.STREAM.CREATE.FLEET_EVENTS',
      '$JS.API.STREAM.UPDATE.FLEET_EVENTS',
      '$JS.API.STREAM.PURGE.FLEET_EVENTS',
      '$JS.API.STREAM.DELETE.FLEET_EVENTS_DLQ',
      '$JS.API.STREAM.MSG.DELETE.FLEET_EVENTS',
      '$KV.fleet_keys.fv1abc',
    ]) {
      expect(everyone().filter((id) => canPublish(id, subject)), subject).toEqual(['admin']);
    }
  });

  it('lets everyone read the key-revocation bucket, and every consumer check the streams', () => {
    for (const id of everyone()) expect(canPublish(id, '$JS.API.DIRECT.GET.KV_fleet_keys.$KV.fleet_keys.fv1abc'), id).toBe(true);
    for (const id of everyone().filter((x) => x !== 'agent-w1' && x !== 'agent-w2')) expect(canPublish(id, '$JS.API.STREAM.INFO.FLEET_EVENTS'), id).toBe(true);
  });

  it('gives each identity its own inbox prefix, which no other may subscribe', () => {
    const prefixes = ids.map((i) => i.inboxPrefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    expect(byId('agent-w1').inboxPrefix).toBe('_INBOX_agent_w1');
    for (const i of ids) {
      expect(canSubscribe(i.id, `${i.inboxPrefix}.abc.1`)).toBe(true);
      for (const other of ids.filter((o) => o !== i)) expect(canSubscribe(other.id, `${i.inboxPrefix}.abc.1`), `${other.id} reads ${i.id}'s replies`).toBe(false);
      expect(canSubscribe(i.id, '_INBOX.abc.1')).toBe(false);
    }
  });

  it('operators send any command but reports, intakes and stats pushes; the reader sends none', () => {
    expect(canPublish('cli', 'fleet.cmd.worker-registry.pause')).toBe(true);
    expect(canPublish('cli', 'fleet.cmd.service-runner.h1.upgrades-rollback')).toBe(true);
    expect(canPublish('cli', 'fleet.cmd.worker-registry.report.w1')).toBe(false);
    expect(canPublish('cli', 'fleet.cmd.event-intake.append.h1')).toBe(false);
    expect(canPublish('cli', 'fleet.cmd.stats-collector.push.h1')).toBe(false);
    expect(canPublish('cli', 'fleet.cmd.worker-registry.host-heartbeat.h1')).toBe(false);
    expect(canPublish('cli', 'fleet.cmd.worker-registry.hosts')).toBe(true);
    expect(canPublish('reader', 'fleet.cmd.worker-registry.list')).toBe(false);
    expect(canSubscribe('reader', 'fleet.evt.worker.w1.ThreadPaused')).toBe(true);
    expect(canSubscribe('reader', 'fleet.cmd.worker-agent.w1.pause')).toBe(false);
  });

  it('lets a runner ask for rollout admission for its own host only, and no operator or other service ask for a host', () => {
    expect(canPublish('runner-h1', 'fleet.cmd.chain-watcher.rollout-admit.h1')).toBe(true);
    expect(canPublish('runner-h1', 'fleet.cmd.chain-watcher.rollout-admit.h2')).toBe(false);
    expect(canPublish('runner-h1', 'fleet.cmd.chain-watcher.rollout-resume')).toBe(false);
    expect(canPublish('cli', 'fleet.cmd.chain-watcher.rollout-admit.h1')).toBe(false);
    expect(canPublish('gateway', 'fleet.cmd.chain-watcher.rollout-admit.h1')).toBe(false);
    expect(canPublish('cli', 'fleet.cmd.chain-watcher.rollout-resume')).toBe(true);
    expect(canSubscribe('chain-watcher', 'fleet.cmd.chain-watcher.rollout-admit.h1')).toBe(true);
  });

  it('scopes the subjects to another root and stream', () => {
    const t = natsIdentities({ root: 'tabc', eventStream: 'T_ABC_EVENTS', workers: ['w1'] });
    const agent = t.find((i) => i.id === 'agent-w1')!;
    expect(agent.permissions.subscribe.allow).toContain('tabc.cmd.worker-agent.w1.>');
    expect(agent.permissions.publish.allow).toContain('$JS.API.DIRECT.GET.KV_tabc_keys.>');
    expect(t.find((i) => i.id === 'worker-registry')!.permissions.publish.allow).toContain('$JS.API.STREAM.INFO.T_ABC_EVENTS_DLQ');
  });

  it('a meter publishes only its own stats push and subscribes only its inbox; no other identity may push as its source', () => {
    const t = natsIdentities({ hosts: ['h1'], meters: ['m1', 'm.2'] });
    const pub = (id: string, subject: string) => permits(t.find((i) => i.id === id)!.permissions.publish, subject);
    const sub = (id: string, subject: string) => permits(t.find((i) => i.id === id)!.permissions.subscribe, subject);
    const meter = t.find((i) => i.id === 'meter-m1')!;
    expect(meter).toMatchObject({ role: 'meter', subject: 'm1', inboxPrefix: '_INBOX_meter_m1' });
    expect(pub('meter-m1', 'fleet.cmd.stats-collector.push.m1')).toBe(true);
    expect(pub('meter-m1', 'fleet.cmd.stats-collector.push.m%2E2')).toBe(false);
    expect(pub('meter-m1', 'fleet.cmd.stats-collector.push.h1')).toBe(false);
    expect(pub('meter-m1', 'fleet.cmd.stats-collector.calls')).toBe(false);
    expect(pub('meter-m1', 'fleet.evt.stats.x.ApiCallsRecorded')).toBe(false);
    expect(pub('meter-m1', '$JS.API.INFO')).toBe(false);
    expect(sub('meter-m1', '_INBOX_meter_m1.abc')).toBe(true);
    expect(sub('meter-m1', 'fleet.cmd.stats-collector.push.m1')).toBe(false);
    expect(sub('meter-m1', '_INBOX_meter_m%2E2.abc')).toBe(false);
    // The dotted name travels encoded in its one subject token.
    expect(t.filter((i) => pub(i.id, 'fleet.cmd.stats-collector.push.m%2E2')).map((i) => i.id)).toEqual([`meter-${safeIdToken('m.2')}`]);
    expect(t.filter((i) => pub(i.id, 'fleet.cmd.stats-collector.push.m1')).map((i) => i.id)).toEqual(['meter-m1']);
    // The collector serves the push; nobody else may take it.
    expect(t.filter((i) => sub(i.id, 'fleet.cmd.stats-collector.push.m1')).map((i) => i.id)).toEqual(['stats-collector']);
    expect(renderIdentityEnv({ identity: meter, seedFile: '/x', root: 'fleet' })).toContain('fleetvisor meter --source m1 ');
  });

  it('the stats-collector may ask the runners for their services (scrape discovery), nothing a runner executes', () => {
    expect(canPublish('stats-collector', 'fleet.cmd.service-runner.list')).toBe(true);
    expect(canPublish('stats-collector', 'fleet.cmd.service-runner.h1.upgrades-rollback')).toBe(false);
    expect(canPublish('stats-collector', 'fleet.cmd.service-runner.status')).toBe(false);
  });

  it('refuses a meter named like a host (both would push as one source)', () => {
    expect(() => natsIdentities({ hosts: ['h1'], meters: ['h1'] })).toThrow(/meter h1 has the name of a --host/);
    expect(() => natsIdentities({ meters: ['m>'] })).toThrow(/no wildcards/);
  });

  it('refuses names that collide, repeat or hold wildcards', () => {
    expect(() => natsIdentities({ workers: ['w1', 'w1'] })).toThrow(/w1 given twice/);
    expect(() => natsIdentities({ hosts: ['h>'] })).toThrow(/no wildcards/);
    expect(() => natsIdentities({ root: 'Fleet' })).toThrow(/invalid subject root/);
  });
});

describe('renderNatsServerConfig', () => {
  const users = ids.map((identity, n) => ({ identity, publicKey: `U${String(n).padStart(55, 'A')}` }));

  it('makes a cluster node: server name, authenticated routes to the peers, JetStream, monitoring', () => {
    const users = natsIdentities({}).map((identity) => ({ identity, publicKey: 'UKEY' }));
    const text = renderNatsServerConfig({
      users,
      monitorListen: '0.0.0.0:8222',
      cluster: { clusterName: 'fleet', serverName: 'n1', listen: '0.0.0.0:6222', peers: ['nats-2:6222', 'nats-3:6222'], routeUser: 'route', routePassword: 'p/w+' },
    });
    expect(text).toContain('server_name: "n1"');
    expect(text).toContain('http: "0.0.0.0:8222"');
    expect(text).toMatch(/cluster \{\n  name: "fleet"\n  listen: "0\.0\.0\.0:6222"\n  authorization \{ user: "route", password: "p\/w\+" \}/);
    // The password is URL-encoded inside the route URLs.
    expect(text).toContain('"nats-route://route:p%2Fw%2B@nats-2:6222"');
    expect(text).toContain('"nats-route://route:p%2Fw%2B@nats-3:6222"');
    expect(renderNatsServerConfig({ users })).not.toContain('cluster {');
  });

  it('limits max_payload to the event stream message size and writes one NKey user per identity', () => {
    const text = renderNatsServerConfig({ users });
    expect(NATS_MAX_PAYLOAD).toBe(DEFAULT_EVENT_STREAM_MAX_MSG_SIZE);
    expect(text).toContain(`max_payload: ${DEFAULT_EVENT_STREAM_MAX_MSG_SIZE}`);
    expect(text.match(/nkey: U/g)).toHaveLength(ids.length);
    expect(text).toContain('allow_responses: true');
    expect(text).toMatch(/WARNING: no TLS/);
    expect(text).not.toMatch(/^tls \{/m);
  });

  it('writes a TLS block, verifying clients when a CA is given', () => {
    const text = renderNatsServerConfig({ users, tls: { certFile: '/s/cert.pem', keyFile: '/s/key.pem', caFile: '/s/ca.pem' } });
    expect(text).toMatch(/tls \{\n {2}cert_file: "\/s\/cert.pem"\n {2}key_file: "\/s\/key.pem"\n {2}ca_file: "\/s\/ca.pem"\n.*\n {2}verify: true\n\}/);
    expect(text).not.toMatch(/WARNING: no TLS/);
  });

  it('writes the env file an identity runs with', () => {
    const env = renderIdentityEnv({ identity: byId('agent-w1'), seedFile: '/etc/fv/agent-w1.nk', root: 'fleet' });
    expect(env).toContain('FLEETVISOR_NATS_NKEY_SEED_FILE=/etc/fv/agent-w1.nk\n');
    expect(env).toContain('FLEETVISOR_NATS_INBOX_PREFIX=_INBOX_agent_w1\n');
    expect(env).toContain('FLEETVISOR_WORKER_NAME=w1\n');
    expect(renderIdentityEnv({ identity: byId('runner-h1'), seedFile: '/x', root: 'tabc', eventStream: 'T_ABC' })).toMatch(/FLEETVISOR_SUBJECT_ROOT=tabc\nFLEETVISOR_EVENT_STREAM=T_ABC\n[\s\S]*FLEETVISOR_HOST=h1\n/);
    expect(env).not.toContain('FLEETVISOR_EVENT_STREAM');
  });
});
