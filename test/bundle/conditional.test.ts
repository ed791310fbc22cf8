import t from 'tap';
import { createResource, patient } from '../helpers/fhir.js';
import { FHIR_JSON_HEADERS, startTestServer, uniqueDbName, type TestServer } from '../helpers/server.js';

const withIdentifier = (value: string, family = 'Cond') =>
  patient(family, { identifier: [{ system: 'http://hospital.test/mrn', value }] });

const condition = (value: string) => `identifier=http://hospital.test/mrn|${value}`;

function conditionalCreate(s: TestServer, resource: Record<string, unknown>, ifNoneExist: string) {
  return s.request({ method: 'POST', url: `${s.base}/Patient`, headers: { ...FHIR_JSON_HEADERS, 'if-none-exist': ifNoneExist }, payload: resource });
}

async function countPatients(s: TestServer, query: string): Promise<number> {
  const response = await s.request({ method: 'GET', url: `${s.base}/Patient?${query}&_total=accurate` });
  return s.json(response).total;
}

t.test('conditional create with no match creates (201)', async (t) => {
  const s = await startTestServer(t);
  const response = await conditionalCreate(s, withIdentifier('c1'), condition('c1'));
  t.equal(response.statusCode, 201);
  t.equal(await countPatients(s, condition('c1')), 1);
});

t.test('conditional create with one match returns the existing resource (200) and creates nothing', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, withIdentifier('c2'));
  const response = await conditionalCreate(s, withIdentifier('c2', 'Other'), `?${condition('c2')}`);
  t.equal(response.statusCode, 200);
  t.equal(s.json(response).id, existing.id);
  t.equal(await countPatients(s, condition('c2')), 1);
});

t.test('conditional create with several matches is 412', async (t) => {
  const s = await startTestServer(t);
  await createResource(s, withIdentifier('c3'));
  await createResource(s, withIdentifier('c3'));
  const response = await conditionalCreate(s, withIdentifier('c3'), condition('c3'));
  t.equal(response.statusCode, 412);
  t.equal(s.json(response).resourceType, 'OperationOutcome');
});

t.test('conditional create with an unknown search parameter is 400, never a create', async (t) => {
  const s = await startTestServer(t);
  const response = await conditionalCreate(s, withIdentifier('c4'), 'no-such-param=1');
  t.equal(response.statusCode, 400);
  t.equal(await countPatients(s, condition('c4')), 0);
});

t.test('simultaneous conditional creates on two server instances make one resource', async (t) => {
  const dbName = uniqueDbName();
  const a = await startTestServer(t, { dbName });
  const b = await startTestServer(t, { dbName });
  t.teardown(() => a.db.dropDatabase());
  // A first Patient makes the collections' array indexes multikey: that first time is a catalog
  // change that conflicts by itself, which would serialise the creates without the condition lock.
  await createResource(a, withIdentifier('warm-up'));
  const n = 12;
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) => conditionalCreate(i % 2 ? a : b, withIdentifier('race'), condition('race'))),
  );
  const statuses = responses.map((r) => r.statusCode).sort();
  t.same(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201], 'one create, the others found it');
  t.equal(new Set(responses.map((r) => JSON.parse(r.body).id)).size, 1, 'every answer names the same resource');
  t.equal(await countPatients(a, condition('race')), 1);
});

t.test('conditional update with no match creates the resource', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'PUT', url: `${s.base}/Patient?${condition('u1')}`, headers: FHIR_JSON_HEADERS, payload: withIdentifier('u1') });
  t.equal(response.statusCode, 201);
  t.equal(await countPatients(s, condition('u1')), 1);
});

t.test('conditional update with one match updates it as a new version', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, withIdentifier('u2'));
  const response = await s.request({ method: 'PUT', url: `${s.base}/Patient?${condition('u2')}`, headers: FHIR_JSON_HEADERS, payload: withIdentifier('u2', 'Renamed') });
  t.equal(response.statusCode, 200);
  const body = s.json(response);
  t.equal(body.id, existing.id);
  t.equal(body.meta.versionId, '2');
  t.equal(body.name[0].family, 'Renamed');
});

t.test('conditional update with several matches is 412', async (t) => {
  const s = await startTestServer(t);
  await createResource(s, withIdentifier('u3'));
  await createResource(s, withIdentifier('u3'));
  const response = await s.request({ method: 'PUT', url: `${s.base}/Patient?${condition('u3')}`, headers: FHIR_JSON_HEADERS, payload: withIdentifier('u3') });
  t.equal(response.statusCode, 412);
});

t.test('conditional update whose body id differs from the match is 400', async (t) => {
  const s = await startTestServer(t);
  await createResource(s, withIdentifier('u4'));
  const response = await s.request({ method: 'PUT', url: `${s.base}/Patient?${condition('u4')}`, headers: FHIR_JSON_HEADERS, payload: { ...withIdentifier('u4'), id: 'someone-else' } });
  t.equal(response.statusCode, 400);
});

t.test('conditional delete deletes the single match', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, withIdentifier('d1'));
  const response = await s.request({ method: 'DELETE', url: `${s.base}/Patient?${condition('d1')}` });
  t.equal(response.statusCode, 200);
  t.equal((await s.request({ method: 'GET', url: `${s.base}/Patient/${existing.id}` })).statusCode, 410);
});

t.test('conditional delete with several matches is 412 by default and deletes nothing', async (t) => {
  const s = await startTestServer(t);
  await createResource(s, withIdentifier('d2'));
  await createResource(s, withIdentifier('d2'));
  const response = await s.request({ method: 'DELETE', url: `${s.base}/Patient?${condition('d2')}` });
  t.equal(response.statusCode, 412);
  t.equal(await countPatients(s, condition('d2')), 2);
});

t.test('conditional delete with several matches deletes them all when CONDITIONAL_DELETE_MAX allows', async (t) => {
  const s = await startTestServer(t, { env: { CONDITIONAL_DELETE_MAX: '5' } });
  for (let i = 0; i < 3; i++) await createResource(s, withIdentifier('d3'));
  const response = await s.request({ method: 'DELETE', url: `${s.base}/Patient?${condition('d3')}` });
  t.equal(response.statusCode, 200);
  t.equal(await countPatients(s, condition('d3')), 0);
});

t.test('conditional delete beyond CONDITIONAL_DELETE_MAX is 412', async (t) => {
  const s = await startTestServer(t, { env: { CONDITIONAL_DELETE_MAX: '2' } });
  for (let i = 0; i < 3; i++) await createResource(s, withIdentifier('d4'));
  const response = await s.request({ method: 'DELETE', url: `${s.base}/Patient?${condition('d4')}` });
  t.equal(response.statusCode, 412);
  t.equal(await countPatients(s, condition('d4')), 3);
});

t.test('conditional delete with no match answers 200 and deletes nothing', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'DELETE', url: `${s.base}/Patient?${condition('none')}` });
  t.equal(response.statusCode, 200);
});
