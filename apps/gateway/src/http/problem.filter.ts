// What reaches Nest rather than the gateway's own Fastify context (its not-found handler for an
// unknown path, anything thrown outside the routes) leaves as problem+json too.
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem, PROBLEM_CONTENT_TYPE } from './problem';

@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    const problem =
      exception instanceof Problem
        ? exception
        : exception instanceof HttpException
          ? new Problem(exception.getStatus(), exception.getStatus() === 404 ? `no route ${req.method} ${req.url.split('?')[0]}` : exception.message)
          : new Problem(500, 'internal error');
    void reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem.body(req.url.split('?')[0]!));
  }
}
