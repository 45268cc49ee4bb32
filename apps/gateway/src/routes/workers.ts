// Workers and hosts: the worker-registry's queries and commands, as `fleetvisor worker …` and
// `hosts list` ask them. Pause, resume and drain are signed for the token holder (operate); remove
// needs admin, like the bus command.
import { Type } from '@sinclair/typebox';
import {
  HostsList,
  WorkerDrain,
  WorkerErrors,
  WorkerHistory,
  WorkerInfo,
  WorkerListPage,
  WorkerPause,
  WorkerRemove,
  WorkerResume,
  WORKER_LIST_PAGE_MAX,
  WorkerSummarySchema,
} from '@fleetvisor/contracts';
import { route, type RouteDef } from '../http/route';
import { actorOf } from './common';

const worker = Type.Object({ worker: WorkerInfo.request.properties.worker }, { additionalProperties: false });
const thread = Type.Object({ worker: WorkerPause.request.properties.worker, index: WorkerPause.request.properties.index }, { additionalProperties: false });

/** The cursor of the workers list: the last name of the page, opaque to clients. */
export const encodeWorkerCursor = (name: string): string => Buffer.from(name, 'utf8').toString('base64url');
const decodeWorkerCursor = (cursor: string): string => Buffer.from(cursor, 'base64url').toString('utf8');

export const workerRoutes: RouteDef[] = [
  route({
    method: 'GET',
    path: '/api/v1/workers',
    operationId: 'listWorkers',
    tag: 'workers',
    role: 'read',
    summary: 'Sealing workers, in name order, one page at a time',
    description: 'Pass `cursor` = `next` of the previous page until `next` is absent.',
    query: Type.Object(
      {
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 700, pattern: '^[A-Za-z0-9_-]+$', description: 'next of the previous page' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WORKER_LIST_PAGE_MAX, description: `Workers per page (default 100, max ${WORKER_LIST_PAGE_MAX})` })),
      },
      { additionalProperties: false },
    ),
    response: Type.Object(
      {
        workers: Type.Array(WorkerSummarySchema, { maxItems: WORKER_LIST_PAGE_MAX }),
        next: Type.Optional(Type.String({ description: 'Cursor of the next page; absent on the last page' })),
        total: Type.Integer({ minimum: 0, description: 'Workers in the registry' }),
      },
      { additionalProperties: false },
    ),
    async handle({ query }, { bus }) {
      const page = await bus.ask(WorkerListPage, { limit: query.limit ?? 100, ...(query.cursor !== undefined ? { after: decodeWorkerCursor(query.cursor) } : {}) });
      return { workers: page.workers, total: page.total, ...(page.next !== undefined ? { next: encodeWorkerCursor(page.next) } : {}) };
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/workers/:worker',
    operationId: 'getWorker',
    tag: 'workers',
    role: 'read',
    summary: 'One worker and every one of its threads (`worker info`)',
    params: worker,
    response: WorkerInfo.result,
    handle: ({ params }, { bus }) => bus.ask(WorkerInfo, { worker: params.worker }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/workers/:worker/history',
    operationId: 'getWorkerHistory',
    tag: 'workers',
    role: 'read',
    summary: 'Every recorded change of one worker, or one of its threads (`worker history`)',
    params: worker,
    query: Type.Object({ index: Type.Optional(WorkerHistory.request.properties.index), limit: Type.Optional(WorkerHistory.request.properties.limit) }, { additionalProperties: false }),
    response: WorkerHistory.result,
    handle: ({ params, query }, { bus }) =>
      bus.ask(WorkerHistory, { worker: params.worker, ...(query.index !== undefined ? { index: query.index } : {}), ...(query.limit !== undefined ? { limit: query.limit } : {}) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/sectors/:sectorId/history',
    operationId: 'getSectorHistory',
    tag: 'workers',
    role: 'read',
    summary: 'Every recorded change of one sector across the fleet (`worker history --sector`)',
    params: Type.Object({ sectorId: WorkerHistory.request.properties.sectorId }, { additionalProperties: false }),
    query: Type.Object({ limit: Type.Optional(WorkerHistory.request.properties.limit) }, { additionalProperties: false }),
    response: WorkerHistory.result,
    handle: ({ params, query }, { bus }) => bus.ask(WorkerHistory, { sectorId: params.sectorId, ...(query.limit !== undefined ? { limit: query.limit } : {}) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/errors',
    operationId: 'listThreadErrors',
    tag: 'workers',
    role: 'read',
    summary: 'Every thread of the fleet that has a last error (`worker errors`), optionally of one worker',
    query: Type.Object({ worker: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Only this worker (its name)' })) }, { additionalProperties: false }),
    response: WorkerErrors.result,
    async handle({ query }, { bus }) {
      const r = await bus.ask(WorkerErrors, {});
      return query.worker === undefined ? r : { threads: r.threads.filter((t) => t.worker === query.worker) };
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/workers/:worker/threads/:index/pause',
    operationId: 'pauseThread',
    tag: 'workers',
    role: 'operate',
    summary: 'Pause one sealing thread (ThreadPaused, recorded with the token\'s name)',
    params: thread,
    response: WorkerPause.result,
    handle: ({ params, holder }, { bus }) => bus.ask(WorkerPause, { worker: params.worker, index: params.index }, { act: actorOf(holder) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/workers/:worker/threads/:index/resume',
    operationId: 'resumeThread',
    tag: 'workers',
    role: 'operate',
    summary: 'Resume one paused thread, in its state or in `state` (a state of the thread\'s plan)',
    params: thread,
    body: Type.Object({ state: Type.Optional(WorkerResume.request.properties.state) }, { additionalProperties: false }),
    response: WorkerResume.result,
    handle: ({ params, body, holder }, { bus }) =>
      bus.ask(WorkerResume, { worker: params.worker, index: params.index, ...(body.state !== undefined ? { state: body.state } : {}) }, { act: actorOf(holder) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/workers/:worker/drain',
    operationId: 'drainWorker',
    tag: 'workers',
    role: 'operate',
    summary: 'Start draining a worker (each thread pauses at its next state boundary); again: its progress',
    params: worker,
    response: WorkerDrain.result,
    handle: ({ params, holder }, { bus }) => bus.ask(WorkerDrain, { worker: params.worker }, { act: actorOf(holder) }),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/workers/:worker',
    operationId: 'removeWorker',
    tag: 'workers',
    role: 'admin',
    summary: 'Forget a worker (WorkerRemoved); it registers anew if it reports again',
    params: worker,
    response: WorkerRemove.result,
    handle: ({ params, holder }, { bus }) => bus.ask(WorkerRemove, { worker: params.worker }, { act: actorOf(holder) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/hosts',
    operationId: 'listHosts',
    tag: 'hosts',
    role: 'read',
    summary: 'Every runner host: online, expired (silent, since when) or offline (`hosts list`)',
    response: HostsList.result,
    handle: (_, { bus }) => bus.ask(HostsList, {}),
  }),
];
