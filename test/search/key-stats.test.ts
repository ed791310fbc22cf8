import t from 'tap';
import { createResource, patient } from '../helpers/fhir.js';
import { startTestServer } from '../helpers/server.js';

// A burst of creates finds a new lowest or highest id at nearly every write: the stats document
// of the type is updated by one write at a time, never by all the writers at once.
t.test('concurrent creates update the key stats of their type one at a time', async (t) => {
  const s = await startTestServer(t, { env: { AUDIT_TRAIL: 'off' }, client: { monitorCommands: true } });
  let running = 0;
  let most = 0;
  let updates = 0;
  const statsUpdates = new Set<number>();
  s.client.on('commandStarted', (e) => {
    if (e.commandName !== 'update' || e.command.update !== 'search_key_stats') return;
    statsUpdates.add(e.requestId);
    updates++;
    most = Math.max(most, ++running);
  });
  const ended = (e: { requestId: number }) => {
    if (statsUpdates.has(e.requestId)) running--;
  };
  s.client.on('commandSucceeded', ended);
  s.client.on('commandFailed', ended);
  const created = await Promise.all(Array.from({ length: 24 }, (_, i) => createResource(s, patient(`Burst${i}`))));
  t.equal(created.length, 24);
  t.ok(updates >= 1, `${updates} updates of the stats`);
  t.equal(most, 1, 'never two at once');
});
