// Lets handler errors reach FleetTransport as thrown. Nest's default RPC filter replaces every
// error that is not an RpcException with `{status:'error', message:'Internal server error'}`,
// so a CommandFailure would lose its code and an event handler's error its message. This filter
// passes the original on: CommandBus then replies with the CommandFailure's code (or 'internal'
// and logs), and EventConsumer naks and logs the real error. createFleetMicroservice registers
// it; register it yourself (`app.useGlobalFilters(new FleetRpcExceptionFilter())`, before
// listen()) when you create the microservice another way. Filters of a controller or handler
// still take precedence over it.
import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

@Catch()
export class FleetRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
