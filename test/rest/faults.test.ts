import t from 'tap';
import { startTestServer } from '../helpers/server.js';

t.test('a database failure is a 500 OperationOutcome naming the request id, and readyz says 503', async (t) => {
  const s = await startTestServer(t, { keepDb: true });
  await s.client.close();
  const response = await s.request({ method: 'GET', url: '/fhir/Patient/any', headers: { 'x-request-id': 'fault-1' } });
  t.equal(response.statusCode, 500);
  const body = s.json(response);
  t.equal(body.resourceType, 'OperationOutcome');
  t.equal(body.issue[0].code, 'exception');
  t.match(body.issue[0].diagnostics, /fault-1/);
  t.notMatch(body.issue[0].diagnostics, /Mongo/, 'internals are logged, not shown');
  const ready = await s.request({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.equal((await s.request({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process itself is up');
});
