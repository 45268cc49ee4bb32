// Migration: a worker whose agent reports that the worker's admin API does not answer
// (WorkerUnreachable, until WorkerReachable): the error and since when, folded from those events.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class WorkerUnreachable1767225600011 implements MigrationInterface {
  readonly name = 'WorkerUnreachable1767225600011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fv_proj_workers ADD COLUMN unreachable text, ADD COLUMN unreachable_since timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fv_proj_workers DROP COLUMN IF EXISTS unreachable, DROP COLUMN IF EXISTS unreachable_since`);
  }
}
