// The agent's commands on the bus, addressed to this worker: fleet.cmd.worker-agent.<name>.<verb>.
// Each handler hands the validated request to AgentCommands. And the fleet-wide proving check,
// which every agent hears (fleet.cmd.worker-agent.proving-check, broadcast) and answers for itself.
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AgentDrain, AgentPause, AgentProvingCheck, AgentResume, AgentThreadList, type CommandRequestOf, type CommandResultOf } from '@fleetvisor/contracts';
import type { FleetCommandPattern } from '@fleetvisor/messaging';
import { ProvingCheck } from './proving/proving-check';
import { WorkerAgent } from './worker-agent';

export const WORKER_AGENT = 'WORKER_AGENT';
export const PROVING_CHECK = 'PROVING_CHECK';

@Controller()
export class WorkerAgentController {
  constructor(
    @Inject(WORKER_AGENT) private readonly agent: WorkerAgent,
    @Inject(PROVING_CHECK) private readonly proving: ProvingCheck,
  ) {}

  @MessagePattern<FleetCommandPattern>({ command: AgentThreadList, scope: 'instance' })
  list(@Payload() req: CommandRequestOf<typeof AgentThreadList>): Promise<CommandResultOf<typeof AgentThreadList>> {
    return this.agent.commands.list(req);
  }

  @MessagePattern<FleetCommandPattern>({ command: AgentPause, scope: 'instance' })
  pause(@Payload() req: CommandRequestOf<typeof AgentPause>): Promise<CommandResultOf<typeof AgentPause>> {
    return this.agent.commands.pause(req);
  }

  @MessagePattern<FleetCommandPattern>({ command: AgentResume, scope: 'instance' })
  resume(@Payload() req: CommandRequestOf<typeof AgentResume>): Promise<CommandResultOf<typeof AgentResume>> {
    return this.agent.commands.resume(req);
  }

  @MessagePattern<FleetCommandPattern>({ command: AgentDrain, scope: 'instance' })
  drain(@Payload() req: CommandRequestOf<typeof AgentDrain>): Promise<CommandResultOf<typeof AgentDrain>> {
    return this.agent.commands.drain(req);
  }

  @MessagePattern<FleetCommandPattern>({ command: AgentProvingCheck, scope: 'broadcast' })
  provingCheck(@Payload() req: CommandRequestOf<typeof AgentProvingCheck>): Promise<CommandResultOf<typeof AgentProvingCheck>> {
    return this.proving.answer(req);
  }
}
