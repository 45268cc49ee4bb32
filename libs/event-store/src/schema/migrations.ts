// The ordered list of schema migrations of the event store itself. Apps own the migrations of their
// own tables (apps/<app>/src/migrations) and pass them in; TypeORM runs the union in timestamp order.
// Append new ones at the end; never edit one that has shipped (databases record them by name in
// fv_migrations).
import type { MigrationInterface } from 'typeorm';
import { CreateEventLog1767225600000 } from './1767225600000-create-event-log';
import { CreateAppendFunction1767225600001 } from './1767225600001-create-append-function';
import { CreateStreamStatsProjection1767225600002 } from './1767225600002-create-stream-stats-projection';
import { AppendFastPath1767225600003 } from './1767225600003-append-fast-path';
import { AppendMany1767225600004 } from './1767225600004-append-many';
import { AppendGroup1767225600005 } from './1767225600005-append-group';
import { JsonPayloads1767225600006 } from './1767225600006-json-payloads';

/** Migration classes, as TypeORM takes them. */
export type SchemaMigrations = readonly (new () => MigrationInterface)[];

export const EVENT_STORE_MIGRATIONS: SchemaMigrations = [
  CreateEventLog1767225600000,
  CreateAppendFunction1767225600001,
  CreateStreamStatsProjection1767225600002,
  AppendFastPath1767225600003,
  AppendMany1767225600004,
  AppendGroup1767225600005,
  JsonPayloads1767225600006,
];

/** TypeORM's bookkeeping table, prefixed like every table of ours. */
export const MIGRATIONS_TABLE = 'fv_migrations';
