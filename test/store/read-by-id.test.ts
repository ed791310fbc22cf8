import type { CommandStartedEvent } from 'mongodb';
import t from 'tap';
import { patientApp } from '../helpers/access.js';
import { createAll } from '../helpers/search.js';
import { startTestServer } from '../helpers/server.js';

// A read by id under an access filter (a patient app's compartment, labels) asks the database
// by `_id` alone, the engine's fast path, and applies the filter to the document it gets.
t.test("a patient app's reads and vreads query by _id alone and still see only her compartment", async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, [
    { resourceType: 'Patient', id: 'ann', name: [{ family: 'Ash' }] },
    { resourceType: 'Patient', id: 'ben', name: [{ family: 'Birch' }] },
  ]);
  const ann = await startTestServer(t, { dbName: admin.db.databaseName, app: patientApp('ann'), client: { monitorCommands: true } });
  const finds: CommandStartedEvent[] = [];
  ann.client.on('commandStarted', (event) => {
    if (event.commandName === 'find' && ['Patient', 'history'].includes(event.command.find)) finds.push(event);
  });
  const own = await ann.request({ method: 'GET', url: '/fhir/Patient/ann' });
  const version = await ann.request({ method: 'GET', url: '/fhir/Patient/ann/_history/1' });
  const other = await ann.request({ method: 'GET', url: '/fhir/Patient/ben' });
  const otherVersion = await ann.request({ method: 'GET', url: '/fhir/Patient/ben/_history/1' });
  t.same([own.statusCode, version.statusCode, other.statusCode, otherVersion.statusCode], [200, 200, 404, 404]);
  t.equal(finds.length, 4);
  t.same(finds.map((f) => Object.keys(f.command.filter)), [['_id'], ['_id'], ['_id'], ['_id']], 'each by _id alone');
  t.ok(finds.every((f) => f.command.projection?.compartments === 1 && f.command.projection?.labels === 1), 'with the fields the filter looks at');
});
