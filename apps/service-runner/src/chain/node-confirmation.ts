// Own-node confirmation (ADR 0006): a runner configured with a node of its chain
// (FLEETVISOR_RUNNER_CHAIN_RPC) asks it, at the height a chain event names, whether the chain really
// says what the event says — the Lava protocol Params for a VersionChanged, x/upgrade's CurrentPlan
// for an UpgradePlanned — the way LavaVisor asks its own node. Plain CometBFT JSON-RPC `abci_query`
// with `height` over HTTP (no CosmJS in the runner process).
//
// Three answers: confirmed; a mismatch (the node answered, and the chain says something else: the
// event is a forgery, or signed by a leaked key); or "cannot tell yet" (node unreachable, behind the
// height, pruned, or an answer that does not decode): the event is held and asked again later.
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { sameProtocolVersion, UpgradePlanned, VersionChanged, type EventData, type EventEnvelope } from '@fleetvisor/contracts';
import { decodeLavaProtocolVersion, LAVA_PARAMS_PATH, LavaParamsError } from '@fleetvisor/lava';

export const CURRENT_PLAN_PATH = '/cosmos.upgrade.v1beta1.Query/CurrentPlan';

export type Confirmation = { kind: 'confirmed' } | { kind: 'mismatch'; reason: string } | { kind: 'unavailable'; reason: string };

export interface ChainEventConfirmer {
  confirm(event: EventEnvelope): Promise<Confirmation>;
}

/** Why the node could not answer (transport, timeout, an error code such as "height in the future"). */
export class NodeUnavailableError extends Error {
  override name = 'NodeUnavailableError';
}

/** An ABCI query at a height (undefined: the latest), over CometBFT JSON-RPC (POST, as every CometBFT node serves it). */
export async function abciQueryAt(rpcUrl: string, path: string, height: number | undefined, timeoutMs: number): Promise<{ value: Uint8Array; height: number }> {
  let res: Response;
  try {
    res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'abci_query', params: { path, data: '', ...(height !== undefined ? { height: String(height) } : {}), prove: false } }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.message);
    throw new NodeUnavailableError(`node ${redact(rpcUrl)} unreachable: ${why}`);
  }
  if (!res.ok) throw new NodeUnavailableError(`node ${redact(rpcUrl)} answered HTTP ${res.status}`);
  let body: { result?: { response?: { code?: number; log?: string; value?: string | null; height?: string } }; error?: { message?: string; data?: string } };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new NodeUnavailableError(`node ${redact(rpcUrl)} answered something that is not JSON-RPC`);
  }
  if (body.error) throw new NodeUnavailableError(`node ${redact(rpcUrl)}: ${body.error.message ?? 'error'} ${body.error.data ?? ''}`.trim());
  const r = body.result?.response;
  if (!r) throw new NodeUnavailableError(`node ${redact(rpcUrl)} answered without a query response`);
  const at = height ?? 'latest';
  if (r.code) throw new NodeUnavailableError(`node ${redact(rpcUrl)} cannot answer at height ${at} (code ${r.code}): ${(r.log ?? '').slice(0, 300)}`);
  const answered = Number(r.height);
  // An answer for another height than asked is not an answer about this event.
  if (!Number.isSafeInteger(answered) || (height !== undefined && answered !== height)) throw new NodeUnavailableError(`node ${redact(rpcUrl)} answered for height ${r.height}, not ${at}`);
  return { value: Buffer.from(r.value ?? '', 'base64'), height: answered };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export class NodeConfirmer implements ChainEventConfirmer {
  constructor(
    private readonly rpcUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  get endpoint(): string {
    return redact(this.rpcUrl);
  }

  async confirm(event: EventEnvelope): Promise<Confirmation> {
    try {
      if (event.type === VersionChanged.type) return await this.confirmVersion(event.data as EventData<typeof VersionChanged>);
      if (event.type === UpgradePlanned.type) return await this.confirmPlan(event.data as EventData<typeof UpgradePlanned>);
      return { kind: 'mismatch', reason: `${event.type} is not a chain event a node can confirm` };
    } catch (e) {
      if (e instanceof NodeUnavailableError) return { kind: 'unavailable', reason: e.message };
      throw e;
    }
  }

  private async confirmVersion(d: EventData<typeof VersionChanged>): Promise<Confirmation> {
    const { value } = await abciQueryAt(this.rpcUrl, LAVA_PARAMS_PATH, d.height, this.timeoutMs);
    let shown;
    try {
      shown = decodeLavaProtocolVersion(value);
    } catch (e) {
      if (!(e instanceof LavaParamsError)) throw e;
      return { kind: 'unavailable', reason: `node ${this.endpoint}: Params at height ${d.height} unusable (${e.reason})` };
    }
    if (sameProtocolVersion(shown, d.current)) return { kind: 'confirmed' };
    return { kind: 'mismatch', reason: `node ${this.endpoint} shows ${JSON.stringify(shown)} at height ${d.height}, not the event's ${JSON.stringify(d.current)}` };
  }

  private async confirmPlan(d: EventData<typeof UpgradePlanned>): Promise<Confirmation> {
    // The event does not say at which height the plan was seen; a plan is current from the block
    // that set it until its height. So: the latest state while the plan is ahead, else the last
    // height before it.
    let answer = await abciQueryAt(this.rpcUrl, CURRENT_PLAN_PATH, undefined, this.timeoutMs);
    if (answer.height >= d.height) answer = await abciQueryAt(this.rpcUrl, CURRENT_PLAN_PATH, d.height - 1, this.timeoutMs);
    let plan;
    try {
      plan = QueryCurrentPlanResponse.decode(answer.value).plan;
    } catch (e) {
      return { kind: 'unavailable', reason: `node ${this.endpoint}: CurrentPlan unreadable (${(e as Error).message})` };
    }
    if (plan && plan.name === d.name && plan.height === BigInt(d.height) && plan.info === d.info) return { kind: 'confirmed' };
    return { kind: 'mismatch', reason: `node ${this.endpoint} has ${plan ? `plan ${plan.name} at ${plan.height}` : 'no plan'} at height ${answer.height}, not the event's ${d.name} at ${d.height}` };
  }
}
