import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { engineCacheMb, startEmbeddedDatabase } from '../../src/db/embedded.js';

t.test('the embedded engine gets mongod\'s default cache, half of (memory − 1 GB)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const engine = await startEmbeddedDatabase(dir);
  t.teardown(() => engine.stop());
  if (engine.kind !== 'secantus') {
    t.pass('a mongod on PATH chooses its own cache');
    return;
  }
  const client = new MongoClient(engine.uri);
  t.teardown(() => client.close());
  const status = await client.db('admin').command({ serverStatus: 1 });
  const configured = Number(status.wiredTiger.cache['maximum bytes configured']);
  t.equal(configured, engineCacheMb() * 2 ** 20, `${configured} bytes configured`);
  t.ok(engineCacheMb() >= 256, 'at least 256 MB');
});
