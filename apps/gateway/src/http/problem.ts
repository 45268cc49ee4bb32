// One error body everywhere: RFC 9457 problem details (application/problem+json). `field` names
// the request field a 400 is about (e.g. "query.limit", "body.state"); `code` is the bus's error
// code when a service refused.
import { Type, type Static } from '@sinclair/typebox';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the kind of problem (about:blank for plain HTTP status meanings)' }),
    title: Type.String({ description: 'Short summary of the kind of problem' }),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String({ description: 'What went wrong this time' })),
    instance: Type.Optional(Type.String({ description: 'The request path' })),
    field: Type.Optional(Type.String({ description: 'The request field a 400 is about: params.x, query.x or body.x' })),
    code: Type.Optional(Type.String({ description: 'Error code of the service that refused (not_found, invalid_request, conflict, ...)' })),
  },
  { additionalProperties: false, description: 'RFC 9457 problem details' },
);
export type ProblemBody = Static<typeof ProblemSchema>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export class Problem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly extra: { field?: string; code?: string; type?: string } = {},
  ) {
    super(detail);
    this.name = 'Problem';
  }

  body(instance: string): ProblemBody {
    return {
      type: this.extra.type ?? 'about:blank',
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.message,
      instance,
      ...(this.extra.field !== undefined ? { field: this.extra.field } : {}),
      ...(this.extra.code !== undefined ? { code: this.extra.code } : {}),
    };
  }
}

/** HTTP status of a service's refusal over the bus (CommandErrorCodes). */
export function statusOfBusError(code: string): number {
  switch (code) {
    case 'invalid_request':
      return 400;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'forbidden':
      return 403;
    case 'timeout':
      return 504;
    case 'unavailable':
      return 503;
    // unauthorized: the service did not accept the gateway's own signature (its key, the trust
    // root): a gateway misconfiguration, not the caller's fault.
    default:
      return 502;
  }
}
