// Routes TypeORM's own log lines (migrations, schema, errors) into the process's pino logger, so
// they come out as JSON lines like everything else instead of on the console.
import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '@fleetvisor/platform';

export class PinoTypeOrmLogger implements TypeOrmLogger {
  constructor(private readonly logger: Logger) {}

  logQuery(query: string): void {
    this.logger.trace({ query }, 'typeorm query');
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.warn({ query, err: error }, 'typeorm query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ query, ms: time }, 'typeorm slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
