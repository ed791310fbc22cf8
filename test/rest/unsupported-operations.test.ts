import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { createResource, patient } from '../helpers/fhir.js';

const PARAMETERS = { resourceType: 'Parameters', parameter: [] };

t.test('operations the server does not have answer 501 not-supported naming the operation, at every level, GET and POST', async (t) => {
  const s = await startTestServer(t);
  const { id } = await createResource(s, patient());
  const cases: [string, string, string][] = [
    ['GET', `/fhir/Patient/${id}/$everything`, '$everything'],
    ['POST', `/fhir/Patient/${id}/$everything`, '$everything'],
    ['GET', '/fhir/Patient/$match', '$match'],
    ['POST', '/fhir/Patient/$match', '$match'],
    ['GET', '/fhir/$export', '$export'],
    ['POST', '/fhir/$export', '$export'],
    ['GET', '/fhir/DocumentReference/$docref', '$docref'],
  ];
  for (const [method, url, operation] of cases) {
    const response = await s.request({ method, url, headers: method === 'POST' ? FHIR_JSON_HEADERS : {}, payload: method === 'POST' ? PARAMETERS : undefined });
    t.equal(response.statusCode, 501, `${method} ${url}`);
    const body = s.json(response);
    t.equal(body.resourceType, 'OperationOutcome');
    t.equal(body.issue[0].code, 'not-supported');
    t.match(body.issue[0].diagnostics, `operation ${operation} is not supported`);
    t.notMatch(body.issue[0].diagnostics, /type/);
  }
});

t.test('an unsupported operation on a type the server does not store is still 404 for the type', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'GET', url: '/fhir/Observation/1/$everything' });
  t.equal(response.statusCode, 404);
  t.match(s.json(response).issue[0].diagnostics, /does not store resources of type "Observation"/);
});

t.test('an operation the server has, asked for with GET, is 405 with Allow: POST', async (t) => {
  const s = await startTestServer(t);
  const { id } = await createResource(s, patient());
  for (const url of ['/fhir/Patient/$validate', `/fhir/Patient/${id}/$validate`, '/fhir/$reindex']) {
    const response = await s.request({ method: 'GET', url });
    t.equal(response.statusCode, 405, url);
    t.equal(response.headers.allow, 'POST');
    t.equal(s.json(response).issue[0].code, 'not-supported');
  }
  const validate = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: patient() });
  t.equal(validate.statusCode, 200, 'the operation itself still answers');
});

t.test('an unsupported operation is audited as an operation', async (t) => {
  const s = await startTestServer(t);
  await s.request({ method: 'GET', url: '/fhir/$export' });
  const events = await s.db.collection('AuditEvent').find({}).toArray();
  t.equal(events.length, 1);
  t.equal(events[0].resource.subtype[0].code, 'operation');
});
