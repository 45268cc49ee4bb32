// Named checkpoints (relay, projections, subscribers) in fv_checkpoints. Projections do not save
// through here: they write their checkpoint inside their own state transaction (ProjectionRunner).
import type { ClientBase, Pool } from 'pg';
import type { CheckpointStore } from './types';
import { START_CHECKPOINT } from './types';
import { parseCheckpoint } from './checkpoint';

const SQL = {
  load: 'SELECT checkpoint FROM fv_checkpoints WHERE name = $1',
  save: `INSERT INTO fv_checkpoints (name, checkpoint, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at`,
  remove: 'DELETE FROM fv_checkpoints WHERE name = $1',
} as const;

function checkName(name: string): string {
  if (name.length === 0 || name.length > 200) throw new RangeError(`checkpoint name must be 1..200 characters, got "${name}"`);
  return name;
}

export class PostgresCheckpointStore implements CheckpointStore {
  /** `db` is the pool, or a client inside a transaction to make the write part of it. */
  constructor(private readonly db: Pool | ClientBase) {}

  async load(name: string): Promise<string> {
    return (await this.find(name)) ?? START_CHECKPOINT;
  }

  /** The stored checkpoint, or undefined when none was ever saved (load says START_CHECKPOINT). */
  async find(name: string): Promise<string | undefined> {
    const res = await this.db.query<{ checkpoint: string }>({ name: 'fv_checkpoint_load', text: SQL.load, values: [checkName(name)] });
    return res.rows[0]?.checkpoint;
  }

  async save(name: string, checkpoint: string): Promise<void> {
    parseCheckpoint(checkpoint);
    await this.db.query({ name: 'fv_checkpoint_save', text: SQL.save, values: [checkName(name), checkpoint] });
  }

  async remove(name: string): Promise<void> {
    await this.db.query({ name: 'fv_checkpoint_remove', text: SQL.remove, values: [checkName(name)] });
  }
}
