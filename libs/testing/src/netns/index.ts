// A small network of Linux network namespaces for multi-host tests on one machine: each "host" is
// a namespace with its own loopback and one address on a private /24, all plugged into a bridge
// that lives in a namespace of its own (the "switch"). The test process reaches the hosts through
// one veth from its own namespace into the switch (the "observer" link), so it can talk to the
// servers the hosts run without them ever listening on a shared address. Cutting a host off is a
// link down on its switch port: the host keeps its loopback and its own address (its processes
// still reach what runs on the same host), it only loses the others.
//
// Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) and `ip` from iproute2. Everything is named
// `<prefix><pid>-…`, so a sweep can remove what a run that died left behind (its pid is gone), and
// teardown() kills every process still inside a namespace before deleting it.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { ManagedProcess, onExitCleanup } from '../private-process';

export { ManagedProcess };

const execFileAsync = promisify(execFile);

export const DEFAULT_NETNS_PREFIX = 'fvns';

export interface NetnsHost {
  /** The name the test gave it (`a`, `b`, …). */
  readonly name: string;
  /** The namespace (`fvns<pid>-a`). */
  readonly namespace: string;
  /** Its address on the private network, e.g. `10.231.7.1`. */
  readonly address: string;
  /** Its switch port, inside the switch namespace. */
  readonly port: string;
}

export interface NetnsNetwork {
  readonly prefix: string;
  /** e.g. `10.231.7` (the network is `<subnet>.0/24`). */
  readonly subnet: string;
  /** The switch namespace (holds the bridge and every host's switch port). */
  readonly switchNamespace: string;
  /** The address of the test process's own end of the observer link. */
  readonly observerAddress: string;
  readonly hosts: readonly NetnsHost[];
  host(name: string): NetnsHost;
  /** `[ip, netns, exec, <namespace>, command, ...args]`: the argv that runs a command inside a host. */
  argv(host: string, command: string, args?: readonly string[]): [string, string[]];
  /**
   * Starts a long-running command inside a host, in its own process group, output appended to
   * `logFile`. `ip netns exec` execs the command, so the pid is the command's own (kill -9 hits it).
   */
  spawn(host: string, spec: { command: string; args?: readonly string[]; logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<ManagedProcess>;
  /** Runs a command inside a host to completion. */
  run(host: string, command: string, args?: readonly string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The host's switch port down: it is cut off from every other host and from the observer. */
  linkDown(host: string): Promise<void>;
  linkUp(host: string): Promise<void>;
  /** Whether the host's switch port is up. */
  linkIsUp(host: string): Promise<boolean>;
  /** Pids of every process inside the host's namespace. */
  pids(host: string): number[];
  /** SIGKILL to everything left in the namespaces, then deletes them and the observer link. Idempotent. */
  teardown(): Promise<void>;
}

export interface NetnsOptions {
  /** Host names, at most 200 (short: they become part of namespace names). */
  hosts: readonly string[];
  /** Namespace name prefix (default `fvns`); the sweep looks only at names with this prefix. */
  prefix?: string;
  /** The second octet range to pick a free /24 from: 10.<secondOctet>.X.0/24 (default 231). */
  secondOctet?: number;
}

/** Why namespaces cannot be used here, or undefined when they can (root, `ip` present, a namespace can be made). */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root (uid 0)';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return '`ip` (iproute2) is not installed';
  const probe = `${DEFAULT_NETNS_PREFIX}${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

function ipSync(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function ip(args: readonly string[]): Promise<string> {
  try {
    return (await execFileAsync('ip', args, { encoding: 'utf8' })).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`ip ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function namespaces(): string[] {
  try {
    // `name (id: 3)` per line.
    return ipSync(['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean);
  } catch {
    return [];
  }
}

function namespacePids(ns: string): number[] {
  try {
    return ipSync(['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killNamespaceSync(ns: string): void {
  // Processes keep a namespace alive after `ip netns del`: kill them first (twice: a dying parent may fork).
  for (let round = 0; round < 2; round++) {
    for (const pid of namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  spawnSync('ip', ['netns', 'del', ns]);
}

function observerLinkName(prefix: string, pid: number): string {
  // Interface names are at most 15 characters.
  return `${prefix.slice(0, 4)}o${pid}`.slice(0, 15);
}

/**
 * Deletes the namespaces (and observer links) named `<prefix><pid>-…` whose pid is no longer a
 * live process: what a test run killed before its teardown left behind. Returns what it removed.
 */
export function sweepStaleNamespaces(prefix = DEFAULT_NETNS_PREFIX): string[] {
  const removed: string[] = [];
  const re = new RegExp(`^${prefix}(\\d+)-`);
  for (const ns of namespaces()) {
    const m = re.exec(ns);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || pidAlive(owner)) continue;
    killNamespaceSync(ns);
    spawnSync('ip', ['link', 'del', observerLinkName(prefix, owner)]);
    removed.push(ns);
  }
  return removed;
}

/** The third octets of 10.<second>.X.0/24 networks this machine already routes or addresses. */
function usedThirdOctets(second: number): Set<number> {
  const used = new Set<number>();
  const text = [ipSync(['-4', 'route', 'show', 'table', 'all']), ipSync(['-4', 'addr', 'show'])].join('\n');
  for (const m of text.matchAll(new RegExp(`\\b10\\.${second}\\.(\\d+)\\.\\d+`, 'g'))) used.add(Number(m[1]));
  // A route wider than /24 covering 10.<second>.* makes every X unsafe.
  if (new RegExp(`\\b10\\.(0|${second})\\.0\\.0/(8|9|1[0-6])\\b`).test(text) || /\b10\.0\.0\.0\/8\b/.test(text)) {
    for (let i = 0; i < 256; i++) used.add(i);
  }
  return used;
}

/**
 * Creates the namespaces, the switch and the observer link, with a /24 no route or address on this
 * machine uses yet (chosen from our pid, so concurrent runs pick different ones). Stale namespaces of
 * dead runs are swept first. Call teardown() in afterAll; an exit hook does it too if the run ends early.
 */
export async function createNetnsNetwork(opts: NetnsOptions): Promise<NetnsNetwork> {
  const prefix = opts.prefix ?? DEFAULT_NETNS_PREFIX;
  if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) throw new Error(`netns prefix "${prefix}": 1 to 6 lowercase letters or digits, starting with a letter`);
  if (opts.hosts.length === 0 || opts.hosts.length > 200) throw new Error('netns: between 1 and 200 hosts');
  for (const h of opts.hosts) if (!/^[a-z0-9]{1,8}$/.test(h)) throw new Error(`netns host name "${h}": 1 to 8 lowercase letters or digits`);
  if (new Set(opts.hosts).size !== opts.hosts.length) throw new Error('netns: host names must be unique');
  const why = netnsUnavailableReason();
  if (why) throw new Error(`cannot build a namespace network here: ${why}`);
  sweepStaleNamespaces(prefix);

  const second = opts.secondOctet ?? 231;
  const used = usedThirdOctets(second);
  let third = -1;
  for (let i = 0; i < 254; i++) {
    const candidate = 1 + ((process.pid + i) % 254);
    if (!used.has(candidate)) {
      third = candidate;
      break;
    }
  }
  if (third < 0) throw new Error(`netns: no free 10.${second}.X.0/24 on this machine`);
  const subnet = `10.${second}.${third}`;
  const base = `${prefix}${process.pid}`;
  const switchNs = `${base}-sw`;
  const observerLink = observerLinkName(prefix, process.pid);
  const observerAddress = `${subnet}.254`;
  const hosts: NetnsHost[] = opts.hosts.map((name, i) => ({ name, namespace: `${base}-${name}`, address: `${subnet}.${i + 1}`, port: `p${i}` }));

  let tornDown = false;
  const teardownSync = (): void => {
    if (tornDown) return;
    tornDown = true;
    for (const h of hosts) killNamespaceSync(h.namespace);
    killNamespaceSync(switchNs);
    // Deleting the switch namespace destroys the observer's peer, and with it the observer link; make sure.
    spawnSync('ip', ['link', 'del', observerLink], { stdio: 'ignore' });
  };
  const unregister = onExitCleanup({ cleanupSync: teardownSync });

  try {
    await ip(['netns', 'add', switchNs]);
    await ip(['-n', switchNs, 'link', 'set', 'lo', 'up']);
    await ip(['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', switchNs, 'link', 'set', 'br0', 'up']);
    for (const h of hosts) {
      await ip(['netns', 'add', h.namespace]);
      await ip(['-n', h.namespace, 'link', 'set', 'lo', 'up']);
      // Made inside the switch namespace: no interface of ours ever appears in the machine's own namespace.
      await ip(['-n', switchNs, 'link', 'add', h.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.namespace]);
      await ip(['-n', switchNs, 'link', 'set', h.port, 'master', 'br0']);
      await ip(['-n', switchNs, 'link', 'set', h.port, 'up']);
      await ip(['-n', h.namespace, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
      await ip(['-n', h.namespace, 'link', 'set', 'eth0', 'up']);
    }
    // The observer: one veth from our namespace into the switch, so the test reaches every host.
    await ip(['link', 'add', observerLink, 'type', 'veth', 'peer', 'name', 'obs', 'netns', switchNs]);
    await ip(['-n', switchNs, 'link', 'set', 'obs', 'master', 'br0']);
    await ip(['-n', switchNs, 'link', 'set', 'obs', 'up']);
    await ip(['addr', 'add', `${observerAddress}/24`, 'dev', observerLink]);
    await ip(['link', 'set', observerLink, 'up']);
  } catch (e) {
    teardownSync();
    unregister();
    throw e;
  }

  const byName = (name: string): NetnsHost => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`netns: no host "${name}" (hosts: ${hosts.map((x) => x.name).join(', ')})`);
    return h;
  };

  return {
    prefix,
    subnet,
    switchNamespace: switchNs,
    observerAddress,
    hosts,
    host: byName,
    argv: (host, command, args = []) => ['ip', ['netns', 'exec', byName(host).namespace, command, ...args]],
    spawn: (host, spec) =>
      ManagedProcess.spawn({
        command: 'ip',
        args: ['netns', 'exec', byName(host).namespace, spec.command, ...(spec.args ?? [])],
        logFile: spec.logFile,
        ...(spec.env ? { env: spec.env } : {}),
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
      }),
    run: async (host, command, args = [], runOpts = {}) => {
      try {
        const r = await execFileAsync('ip', ['netns', 'exec', byName(host).namespace, command, ...args], {
          encoding: 'utf8',
          timeout: runOpts.timeoutMs ?? 30_000,
          ...(runOpts.env ? { env: runOpts.env } : {}),
          maxBuffer: 16 * 1024 * 1024,
        });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const err = e as Error & { code?: number | string; stdout?: string; stderr?: string };
        return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
      }
    },
    linkDown: async (host) => {
      await ip(['-n', switchNs, 'link', 'set', byName(host).port, 'down']);
    },
    linkUp: async (host) => {
      await ip(['-n', switchNs, 'link', 'set', byName(host).port, 'up']);
    },
    linkIsUp: async (host) => {
      const out = await ip(['-n', switchNs, '-o', 'link', 'show', byName(host).port]);
      return /[<,]UP[,>]/.test(out);
    },
    pids: (host) => namespacePids(byName(host).namespace),
    teardown: async () => {
      teardownSync();
      unregister();
    },
  };
}

/** Every namespace this machine has whose name starts with `prefix` (for tests of the teardown). */
export function listNamespaces(prefix = DEFAULT_NETNS_PREFIX): string[] {
  return namespaces().filter((n) => n.startsWith(prefix));
}
