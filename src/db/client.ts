import { MongoClient, type Db } from 'mongodb';
import type { Config } from '../config.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded.js';

export interface DatabaseConnection {
  client: MongoClient;
  db: Db;
  embedded?: EmbeddedDatabase;
  close(): Promise<void>;
}

/** Connects to MONGODB_URI, or starts the embedded database when it is unset. */
export async function connectDatabase(config: Config, log: (message: string) => void): Promise<DatabaseConnection> {
  const embedded = config.mongoUri ? undefined : await startEmbeddedDatabase(config.dataDir, log);
  const uri = config.mongoUri ?? embedded!.uri;
  // Command monitoring feeds the database latency of /metrics (src/metrics), so only when metrics are on.
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, ignoreUndefined: true, monitorCommands: config.metrics.enabled });
  try {
    await client.connect();
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  // A database named in the URI wins over MONGODB_DB.
  const named = /^mongodb(?:\+srv)?:\/\/[^/]*\/?([^?]*)/.exec(uri)?.[1] ?? '';
  const db = client.db(named || config.dbName);
  return {
    client,
    db,
    embedded,
    async close() {
      await client.close();
      await embedded?.stop();
    },
  };
}
