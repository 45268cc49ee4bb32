// The namespace harness itself (libs/testing/src/netns): two "hosts" reach each other over the
// private network (a TCP connection to a server inside one of them, from the other and from the test process), a link down cuts one
// off (and a link up brings it back), and teardown leaves no namespace, process or interface behind,
// and a sweep removes what a run that died left behind.
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsNetwork, expectEventually, listNamespaces, sweepStaleNamespaces, type NetnsNetwork } from '@fleetvisor/testing';

/** A TCP server that greets with `hello` (node, started inside a host with `ip netns exec`). */
const greeter = (port: number) => [process.execPath, ['-e', `require('node:net').createServer((s) => s.end('hello\\n')).listen(${port}, '0.0.0.0')`]] as const;
/** Connects from inside `host` and prints what the server says (exit 1 when it cannot connect). */
const connectFrom = (net: NetnsNetwork, host: string, address: string, port: number) =>
  net.run(host, process.execPath, ['-e', `const s = require('node:net').connect(${port}, '${address}'); s.setTimeout(1000, () => process.exit(1)); s.on('data', (d) => { process.stdout.write(d); process.exit(0); }); s.on('error', () => process.exit(1));`], { timeoutMs: 5_000 });

/** What a TCP server greets the test process itself with (through the observer link). */
const greeting = (host: string, port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const sock = connect({ host, port, timeout: 2_000 });
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('end', () => resolve(got.trim()));
    sock.on('timeout', () => sock.destroy(new Error('timed out')));
    sock.on('error', reject);
  });

describe('network namespace harness', () => {
  let net: NetnsNetwork;

  beforeAll(async () => {
    net = await createNetnsNetwork({ hosts: ['a', 'b'], prefix: 'fvnt' });
  });
  afterAll(async () => {
    await net?.teardown();
  });

  it('gives each host an address on a free private /24 and a loopback that is up', async () => {
    expect(net.subnet).toMatch(/^10\.231\.\d+$/);
    expect(net.hosts.map((h) => h.address)).toEqual([`${net.subnet}.1`, `${net.subnet}.2`]);
    const addr = await net.run('a', 'ip', ['-4', '-o', 'addr', 'show']);
    expect(addr.stdout).toContain('lo    inet 127.0.0.1/8');
    expect(addr.stdout).toContain(`eth0    inet ${net.subnet}.1/24`);
    // Nothing of ours in the machine's own namespace but the observer link.
    const own = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    expect(own.split('\n').filter((l) => l.includes(`fvnt`)).length).toBe(1);
  });

  it('hosts reach each other over TCP and the observer reaches them', async () => {
    const [cmd, args] = net.argv('b', greeter(7007)[0], [...greeter(7007)[1]]);
    // Left running on purpose: the teardown test checks that it is killed with the namespace.
    spawn(cmd, args, { stdio: 'ignore', detached: true }).unref();
    const tcp = await expectEventually(async () => {
      const r = await connectFrom(net, 'a', net.host('b').address, 7007);
      expect(r.stdout.trim(), r.stderr).toBe('hello');
      return r;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(tcp.code).toBe(0);
    // The greeter runs inside b's namespace.
    expect(net.pids('b').length).toBeGreaterThan(0);
    expect(net.pids('a')).toEqual([]);
    // The test process itself, through the observer link.
    expect(await greeting(net.host('b').address, 7007)).toBe('hello');
  });

  it('link down cuts a host off, link up brings it back; its own address still answers inside', async () => {
    await net.linkDown('b');
    expect(await net.linkIsUp('b')).toBe(false);
    const cut = await connectFrom(net, 'a', net.host('b').address, 7007);
    expect(cut.code).not.toBe(0);
    // Inside the cut host, its own services are still reachable on its address.
    const inside = await connectFrom(net, 'b', net.host('b').address, 7007);
    expect(inside.stdout.trim(), inside.stderr).toBe('hello');
    await net.linkUp('b');
    await expectEventually(async () => expect((await connectFrom(net, 'a', net.host('b').address, 7007)).stdout.trim()).toBe('hello'), { timeoutMs: 10_000, intervalMs: 100 });
  });

  it('teardown kills what runs inside and leaves no namespace or link; the sweep removes a dead run\'s namespaces', async () => {
    const inside = net.pids('b');
    expect(inside.length).toBeGreaterThan(0);
    await net.teardown();
    expect(listNamespaces('fvnt')).toEqual([]);
    expect(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout).not.toContain('fvnt');
    // (Killed at once; reaped by our event loop a moment later.)
    await expectEventually(() => {
      for (const pid of inside) expect(() => process.kill(pid, 0)).toThrow();
    }, { timeoutMs: 5_000 });

    // A namespace left by a run whose pid is dead: a pid far above pid_max is never alive.
    const stale = 'fvnt99999999-x';
    expect(spawnSync('ip', ['netns', 'add', stale]).status).toBe(0);
    expect(sweepStaleNamespaces('fvnt')).toEqual([stale]);
    expect(listNamespaces('fvnt')).toEqual([]);
  });
});
