import pino from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { connectDatabase } from './db/client.js';

/** Reads the configuration, opens the database, serves, and shuts down gracefully. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  if (!config.auth.issuer) {
    log.warn(
      { host: config.host, port: config.port, authDisabled: config.auth.disabled },
      'AUTHORIZATION IS OFF (no AUTH_ISSUER): anyone who can reach this port can read and write every record',
    );
  }
  const database = await connectDatabase(config, (message) => log.info(message));
  const app = await buildApp({ config, db: database.db, logger: { level: config.logLevel } });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await app.close();
    } finally {
      await database.close();
      log.info('stopped');
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  log.info({ baseUrl: config.baseUrl, database: database.embedded?.kind ?? 'MONGODB_URI' }, 'FHIR server ready');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
