import t from 'tap';
import { startTestServer, FHIR_JSON_HEADERS } from '../helpers/server.js';

t.test('create then read a Patient', async (t) => {
  const s = await startTestServer(t);
  const created = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient' } });
  t.equal(created.statusCode, 201);
  const id = s.json(created).id;
  const read = await s.request({ method: 'GET', url: `/fhir/Patient/${id}` });
  t.equal(read.statusCode, 200);
  t.equal(s.json(read).id, id);
});
