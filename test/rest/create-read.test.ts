import t from 'tap';
import { startTestServer, FHIR_JSON_HEADERS } from '../helpers/server.js';
import { createResource, patient } from '../helpers/fhir.js';

t.test('create answers 201 with Location, ETag, Last-Modified and server-set meta', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({
    method: 'POST',
    url: '/fhir/Patient',
    headers: FHIR_JSON_HEADERS,
    payload: { ...patient(), id: 'client-chosen', meta: { versionId: '7', lastUpdated: '2001-01-01T00:00:00Z' } },
  });
  t.equal(response.statusCode, 201);
  const body = s.json(response);
  t.not(body.id, 'client-chosen', 'the id in a POST body is ignored');
  t.match(body.id, /^[0-9a-f-]{36}$/, 'server ids are random UUIDs');
  t.equal(body.meta.versionId, '1');
  t.not(body.meta.lastUpdated, '2001-01-01T00:00:00Z');
  t.equal(response.headers.location, `http://fhir.test/fhir/Patient/${body.id}/_history/1`);
  t.equal(response.headers.etag, 'W/"1"');
  t.equal(response.headers['last-modified'], new Date(body.meta.lastUpdated).toUTCString());
  t.equal(response.headers['content-type'], 'application/fhir+json; charset=utf-8');
});

t.test('read returns the resource with ETag and Last-Modified', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const response = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}` });
  t.equal(response.statusCode, 200);
  t.same(s.json(response), created);
  t.equal(response.headers.etag, 'W/"1"');
  t.ok(response.headers['last-modified']);
});

t.test('read with a matching If-None-Match answers 304, a stale one 200', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const same = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}`, headers: { 'if-none-match': 'W/"1"' } });
  t.equal(same.statusCode, 304);
  t.equal(same.body, '');
  const stale = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}`, headers: { 'if-none-match': 'W/"0"' } });
  t.equal(stale.statusCode, 200);
});

t.test('read with If-Modified-Since answers 304 when not modified since', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const later = new Date(Date.now() + 60_000).toUTCString();
  const earlier = new Date(Date.now() - 3_600_000).toUTCString();
  const notModified = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}`, headers: { 'if-modified-since': later } });
  t.equal(notModified.statusCode, 304);
  const modified = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}`, headers: { 'if-modified-since': earlier } });
  t.equal(modified.statusCode, 200);
});

t.test('vread returns each version; unknown versions are 404', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient('First'));
  await s.request({
    method: 'PUT',
    url: `/fhir/Patient/${created.id}`,
    headers: FHIR_JSON_HEADERS,
    payload: { ...created, name: [{ family: 'Second' }] },
  });
  const v1 = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history/1` });
  t.equal(v1.statusCode, 200);
  t.equal(s.json(v1).name[0].family, 'First');
  t.equal(v1.headers.etag, 'W/"1"');
  const v2 = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history/2` });
  t.equal(s.json(v2).name[0].family, 'Second');
  t.equal(v2.headers.etag, 'W/"2"');
  const v2NotModified = await s.request({
    method: 'GET',
    url: `/fhir/Patient/${created.id}/_history/2`,
    headers: { 'if-none-match': 'W/"2"' },
  });
  t.equal(v2NotModified.statusCode, 304);
  for (const vid of ['3', '0', 'abc', '1.5']) {
    const missing = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history/${vid}` });
    t.equal(missing.statusCode, 404, `version ${vid}`);
    t.equal(s.json(missing).resourceType, 'OperationOutcome');
  }
});

t.test('read of an unknown id or type is a 404 OperationOutcome', async (t) => {
  const s = await startTestServer(t);
  const unknownId = await s.request({ method: 'GET', url: '/fhir/Patient/does-not-exist' });
  t.equal(unknownId.statusCode, 404);
  t.equal(s.json(unknownId).issue[0].code, 'not-found');
  const unknownType = await s.request({ method: 'GET', url: '/fhir/Spaceship/1' });
  t.equal(unknownType.statusCode, 404);
  t.match(s.json(unknownType).issue[0].diagnostics, /Spaceship/);
  const unknownTypeCreate = await s.request({ method: 'POST', url: '/fhir/Spaceship', headers: FHIR_JSON_HEADERS, payload: {} });
  t.equal(unknownTypeCreate.statusCode, 404);
});

t.test('create of each stored type works', async (t) => {
  const s = await startTestServer(t);
  const subject = await createResource(s, patient());
  const resources = [
    {
      resourceType: 'DocumentReference',
      status: 'current',
      subject: { reference: `Patient/${subject.id}` },
      content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }],
    },
    {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/${subject.id}` },
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    },
    {
      resourceType: 'AuditEvent',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
      recorded: '2024-01-01T10:00:00Z',
      agent: [{ requestor: true, who: { display: 'records clerk' } }],
      source: { observer: { display: 'server' } },
    },
  ];
  for (const resource of resources) {
    const created = await createResource(s, resource);
    const read = await s.request({ method: 'GET', url: `/fhir/${resource.resourceType}/${created.id}` });
    t.equal(read.statusCode, 200, resource.resourceType);
  }
});
