import t from 'tap';
import { startTestServer, FHIR_JSON_HEADERS } from '../helpers/server.js';
import { createResource, patient, putResource } from '../helpers/fhir.js';

t.test('update makes a new version with ETag and Location', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const response = await putResource(s, { ...created, gender: 'female' });
  t.equal(response.statusCode, 200);
  const body = s.json(response);
  t.equal(body.meta.versionId, '2');
  t.equal(body.gender, 'female');
  t.equal(response.headers.etag, 'W/"2"');
  t.equal(response.headers.location, `http://fhir.test/fhir/Patient/${created.id}/_history/2`);
  t.ok(body.meta.lastUpdated > created.meta.lastUpdated, 'lastUpdated moves forward');
});

t.test('update with unchanged content still makes a new version', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const response = await putResource(s, created);
  t.equal(s.json(response).meta.versionId, '2');
});

t.test('update of a new client id creates it (201)', async (t) => {
  const s = await startTestServer(t);
  const response = await putResource(s, { ...patient(), id: 'mrn-000123' });
  t.equal(response.statusCode, 201);
  t.equal(s.json(response).meta.versionId, '1');
  t.equal(response.headers.location, 'http://fhir.test/fhir/Patient/mrn-000123/_history/1');
});

t.test('update with a matching If-Match succeeds; a stale one gives 412', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const ok = await putResource(s, created, { 'if-match': 'W/"1"' });
  t.equal(ok.statusCode, 200);
  const stale = await putResource(s, created, { 'if-match': 'W/"1"' });
  t.equal(stale.statusCode, 412);
  t.equal(s.json(stale).resourceType, 'OperationOutcome');
  t.match(s.json(stale).issue[0].diagnostics, /version 2/);
  const malformed = await putResource(s, created, { 'if-match': 'yesterday' });
  t.equal(malformed.statusCode, 400);
  const read = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}` });
  t.equal(s.json(read).meta.versionId, '2', 'the rejected updates wrote nothing');
});

t.test('If-Match on an id that does not exist gives 412', async (t) => {
  const s = await startTestServer(t);
  const response = await putResource(s, { ...patient(), id: 'nobody' }, { 'if-match': 'W/"1"' });
  t.equal(response.statusCode, 412);
});

t.test('update whose body id differs from the URL, or is missing, gives 400', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const other = await s.request({
    method: 'PUT',
    url: `/fhir/Patient/${created.id}`,
    headers: FHIR_JSON_HEADERS,
    payload: { ...created, id: 'someone-else' },
  });
  t.equal(other.statusCode, 400);
  t.match(s.json(other).issue[0].diagnostics, /differs/);
  const { id: _id, ...withoutId } = created;
  const missing = await s.request({ method: 'PUT', url: `/fhir/Patient/${created.id}`, headers: FHIR_JSON_HEADERS, payload: withoutId });
  t.equal(missing.statusCode, 400);
  t.match(s.json(missing).issue[0].diagnostics, /no id/);
});

t.test('client ids must match [A-Za-z0-9-.]{1,64}', async (t) => {
  const s = await startTestServer(t);
  for (const id of ['has_underscore', 'x'.repeat(65), 'a%20b']) {
    const response = await s.request({
      method: 'PUT',
      url: `/fhir/Patient/${encodeURIComponent(id)}`,
      headers: FHIR_JSON_HEADERS,
      payload: { ...patient(), id },
    });
    t.equal(response.statusCode, 400, id);
  }
  const ok = await putResource(s, { ...patient(), id: 'A-b.9' });
  t.equal(ok.statusCode, 201);
});

t.test('Prefer: return=minimal, representation and OperationOutcome', async (t) => {
  const s = await startTestServer(t);
  const minimal = await s.request({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { ...FHIR_JSON_HEADERS, prefer: 'return=minimal' },
    payload: patient(),
  });
  t.equal(minimal.statusCode, 201);
  t.equal(minimal.body, '');
  t.ok(minimal.headers.location);
  const id = /Patient\/([^/]+)\//.exec(String(minimal.headers.location))![1];
  const oo = await s.request({
    method: 'PUT',
    url: `/fhir/Patient/${id}`,
    headers: { ...FHIR_JSON_HEADERS, prefer: 'return=OperationOutcome' },
    payload: { ...patient(), id },
  });
  t.equal(oo.statusCode, 200);
  t.equal(s.json(oo).resourceType, 'OperationOutcome');
  t.match(s.json(oo).issue.at(-1).diagnostics, /version 2/);
  const representation = await s.request({
    method: 'PUT',
    url: `/fhir/Patient/${id}`,
    headers: { ...FHIR_JSON_HEADERS, prefer: 'return=representation' },
    payload: { ...patient(), id },
  });
  t.equal(s.json(representation).meta.versionId, '3');
});

t.test('delete keeps history, then reads give 410 and vread of the marker 410', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const deleted = await s.request({ method: 'DELETE', url: `/fhir/Patient/${created.id}` });
  t.equal(deleted.statusCode, 200);
  t.equal(s.json(deleted).resourceType, 'OperationOutcome');
  t.equal(deleted.headers.etag, 'W/"2"');
  const read = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}` });
  t.equal(read.statusCode, 410);
  t.equal(s.json(read).issue[0].code, 'deleted');
  const marker = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history/2` });
  t.equal(marker.statusCode, 410);
  const v1 = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history/1` });
  t.equal(v1.statusCode, 200, 'earlier versions stay readable');
  const history = s.json(await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history` }));
  t.equal(history.total, 2);
  t.equal(history.entry[0].request.method, 'DELETE');
  t.notOk(history.entry[0].resource);
  t.equal(history.entry[0].response.etag, 'W/"2"');
});

t.test('delete of a missing or already deleted resource changes nothing and answers 200', async (t) => {
  const s = await startTestServer(t);
  const missing = await s.request({ method: 'DELETE', url: '/fhir/Patient/never-was' });
  t.equal(missing.statusCode, 200);
  t.match(s.json(missing).issue[0].diagnostics, /nothing to delete/);
  const created = await createResource(s, patient());
  await s.request({ method: 'DELETE', url: `/fhir/Patient/${created.id}` });
  const again = await s.request({ method: 'DELETE', url: `/fhir/Patient/${created.id}` });
  t.equal(again.statusCode, 200);
  const history = s.json(await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history` }));
  t.equal(history.total, 2, 'the second delete wrote no version');
});

t.test('a PUT after delete revives the resource as a new version', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  await s.request({ method: 'DELETE', url: `/fhir/Patient/${created.id}` });
  const revived = await putResource(s, created);
  t.equal(revived.statusCode, 201);
  t.equal(s.json(revived).meta.versionId, '3');
  const read = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}` });
  t.equal(read.statusCode, 200);
});

t.test('AuditEvent is append-only: update and delete give 405 with Allow', async (t) => {
  const s = await startTestServer(t);
  const audit = await createResource(s, {
    resourceType: 'AuditEvent',
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
    recorded: '2024-01-01T10:00:00Z',
    agent: [{ requestor: true, who: { display: 'records clerk' } }],
    source: { observer: { display: 'server' } },
  });
  const update = await putResource(s, { ...audit, outcome: '4' });
  t.equal(update.statusCode, 405);
  t.equal(s.json(update).issue[0].code, 'not-supported');
  t.equal(update.headers.allow, 'GET, POST');
  const del = await s.request({ method: 'DELETE', url: `/fhir/AuditEvent/${audit.id}` });
  t.equal(del.statusCode, 405);
  const read = await s.request({ method: 'GET', url: `/fhir/AuditEvent/${audit.id}` });
  t.equal(s.json(read).meta.versionId, '1', 'the audit record is untouched');
});
