// The state flows a simulated sealing thread walks, per plan, as damocles-worker's planners do
// (damocles-worker/src/sealing/sealing_thread/planner/{sealer,snapup,unseal}.rs): from each state,
// the planner event that leads on, the next state, and the job stage shown while the thread works
// in that state (`State::stage` in planner/common/sector.rs). States come from the contracts
// (PLAN_STATES), so a simulated transition is always one the registry accepts.
import { PLAN_STATES, type SealingPlan } from '@fleetvisor/contracts';

/** Plans the simulator runs (rebuild and wdpost are never handed out by the simulated manager). */
export const SIMULATED_PLANS = ['sealer', 'snapup', 'unseal'] as const satisfies readonly SealingPlan[];
export type SimulatedPlan = (typeof SIMULATED_PLANS)[number];

export function isSimulatedPlan(plan: string): plan is SimulatedPlan {
  return (SIMULATED_PLANS as readonly string[]).includes(plan);
}

export interface FlowStep {
  /** Planner event emitted when the work of this state is done (damocles' Event names). */
  event: string;
  next: string;
  /** Job stage while the thread works in this state ('-' in damocles is left out). */
  stage: string | undefined;
  /** The thread waits on the chain here rather than computing (shown as Waiting). */
  waiting: boolean;
}

type Flow = Readonly<Record<string, FlowStep>>;

const step = (event: string, next: string, stage: string | undefined, waiting = false): FlowStep => ({ event, next, stage, waiting });

const SEALER: Flow = {
  Empty: step('Allocate', 'Allocated', undefined),
  Allocated: step('AcquireDeals', 'DealsAcquired', 'AcquireDeals'),
  DealsAcquired: step('AddPiece', 'PieceAdded', 'AddPieces'),
  PieceAdded: step('BuildTreeD', 'TreeDBuilt', 'TreeD'),
  TreeDBuilt: step('AssignTicket', 'TicketAssigned', 'AssignTicket'),
  TicketAssigned: step('PC1', 'PC1Done', 'PC1'),
  PC1Done: step('PC2', 'PC2Done', 'PC2'),
  SyntheticPoRepNeeded: step('SyntheticPoRep', 'PC2Done', 'SyntheticPoRep'),
  PC2Done: step('SubmitPC', 'PCSubmitted', 'SubmitPreCommit'),
  PCSubmitted: step('CheckPC', 'PCLanded', 'WaitPCLanded', true),
  PCLanded: step('Persist', 'Persisted', 'PersistFiles'),
  Persisted: step('SubmitPersistance', 'PersistanceSubmitted', 'SubmitPersisted'),
  PersistanceSubmitted: step('AssignSeed', 'SeedAssigned', 'WaitSeed', true),
  SeedAssigned: step('C1', 'C1Done', 'C1'),
  C1Done: step('C2', 'C2Done', 'C2'),
  C2Done: step('SubmitProof', 'ProofSubmitted', 'SubmitProof'),
  ProofSubmitted: step('Finish', 'Finished', 'WaitProofLanded', true),
};

const SNAPUP: Flow = {
  Empty: step('AllocatedSnapUpSector', 'Allocated', undefined),
  Allocated: step('AddPiece', 'PieceAdded', 'AddPieces'),
  PieceAdded: step('BuildTreeD', 'TreeDBuilt', 'TreeD'),
  TreeDBuilt: step('SnapEncode', 'SnapEncoded', 'SnapEncode'),
  SnapEncoded: step('SnapProve', 'SnapProved', 'SnapProve'),
  SnapProved: step('Persist', 'Persisted', 'PersistFiles'),
  Persisted: step('Finish', 'Finished', 'SubmitSnapupProof', true),
};

const UNSEAL: Flow = {
  Empty: step('AllocatedUnsealSector', 'Allocated', undefined),
  Allocated: step('UnsealDone', 'Unsealed', 'Unseal'),
  Unsealed: step('UploadPieceDone', 'Finished', 'UploadPiece'),
};

export const PLAN_FLOWS: Readonly<Record<SimulatedPlan, Flow>> = Object.freeze({ sealer: SEALER, snapup: SNAPUP, unseal: UNSEAL });

/** The alternative the sealer takes after PC1 for synthetic PoRep proofs. */
export const SYNTHETIC_PC2: FlowStep = step('PC2NeedSyntheticProof', 'SyntheticPoRepNeeded', 'PC2');

/** What happens next from `state`, or undefined for a terminal state (Finished, Aborted). */
export function flowStep(plan: SimulatedPlan, state: string): FlowStep | undefined {
  return PLAN_FLOWS[plan][state];
}

/** The happy path of a plan from Empty to Finished (synthetic PoRep left out). */
export function happyPath(plan: SimulatedPlan): string[] {
  const states = ['Empty'];
  for (let s = flowStep(plan, 'Empty'); s; s = flowStep(plan, s.next)) states.push(s.next);
  return states;
}

/** Every state of the plan's flow must be a contract state of that plan; checked once at load. */
for (const plan of SIMULATED_PLANS) {
  const valid = PLAN_STATES[plan];
  for (const [from, s] of Object.entries(PLAN_FLOWS[plan])) {
    if (!valid.includes(from) || !valid.includes(s.next)) throw new Error(`sealing flow ${plan}: ${from} -> ${s.next} is not in PLAN_STATES`);
  }
}
