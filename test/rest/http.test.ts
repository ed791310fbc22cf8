import t from 'tap';
import { startTestServer, FHIR_JSON_HEADERS } from '../helpers/server.js';
import { createResource, patient } from '../helpers/fhir.js';

t.test('application/json bodies are accepted as well as application/fhir+json', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    payload: JSON.stringify(patient()),
  });
  t.equal(response.statusCode, 201);
});

t.test('other body types give 415', async (t) => {
  const s = await startTestServer(t);
  for (const type of ['application/fhir+xml', 'text/plain']) {
    const response = await s.request({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': type }, payload: '<Patient/>' });
    t.equal(response.statusCode, 415, type);
    t.equal(s.json(response).issue[0].code, 'not-supported');
  }
});

t.test('malformed JSON, an empty body and a non-resource body give 400', async (t) => {
  const s = await startTestServer(t);
  const malformed = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: '{"resourceType": "Patient",' });
  t.equal(malformed.statusCode, 400);
  t.match(s.json(malformed).issue[0].diagnostics, /not valid JSON/);
  const empty = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: '' });
  t.equal(empty.statusCode, 400);
  const array = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: '[1,2]' });
  t.equal(array.statusCode, 400);
  const wrongType = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Consent' } });
  t.equal(wrongType.statusCode, 400);
  t.match(s.json(wrongType).issue[0].diagnostics, /Consent.*Patient/);
  const none = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: { name: [] } });
  t.equal(none.statusCode, 400);
});

t.test('keys MongoDB would read as operators or paths are refused with 400', async (t) => {
  const s = await startTestServer(t);
  for (const key of ['$where', 'a.b', '__proto__']) {
    const payload = `{"resourceType":"Patient","name":[{"${key}":"x"}]}`;
    const response = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload });
    t.equal(response.statusCode, 400, key);
    t.equal(s.json(response).resourceType, 'OperationOutcome');
  }
});

t.test('a body over the configured limit gives 413', async (t) => {
  const s = await startTestServer(t, { env: { BODY_LIMIT_BYTES: '2000' } });
  const big = { ...patient(), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(3000)}</div>` } };
  const response = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: big });
  t.equal(response.statusCode, 413);
  t.equal(s.json(response).issue[0].code, 'too-costly');
});

t.test('_format and Accept: JSON is served, XML is 406', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const url = `/fhir/Patient/${created.id}`;
  t.equal((await s.request({ method: 'GET', url: `${url}?_format=json` })).statusCode, 200);
  t.equal((await s.request({ method: 'GET', url: `${url}?_format=application/fhir%2Bjson` })).statusCode, 200);
  t.equal((await s.request({ method: 'GET', url: `${url}?_format=xml` })).statusCode, 406);
  t.equal((await s.request({ method: 'GET', url, headers: { accept: 'application/fhir+xml' } })).statusCode, 406);
  t.equal((await s.request({ method: 'GET', url, headers: { accept: 'application/json' } })).statusCode, 200);
  t.equal((await s.request({ method: 'GET', url, headers: { accept: 'text/html,*/*;q=0.8' } })).statusCode, 200);
});

t.test('_pretty indents the JSON', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  const pretty = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}?_pretty=true` });
  t.match(pretty.body, /\n {2}"id"/);
  const compact = await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}` });
  t.notMatch(compact.body, /\n/);
});

t.test('_summary and _elements on read', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, {
    ...patient(),
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Peter Chalmers</div>' },
    maritalStatus: { text: 'married' },
    deceasedBoolean: false,
  });
  const url = `/fhir/Patient/${created.id}`;
  const summary = s.json(await s.request({ method: 'GET', url: `${url}?_summary=true` }));
  t.ok(summary.name && summary.birthDate && summary.deceasedBoolean === false, 'summary elements kept');
  t.notOk(summary.maritalStatus, 'non-summary element dropped');
  t.notOk(summary.text);
  t.equal(summary.meta.tag.at(-1).code, 'SUBSETTED');
  const text = s.json(await s.request({ method: 'GET', url: `${url}?_summary=text` }));
  t.ok(text.text);
  t.notOk(text.name);
  const data = s.json(await s.request({ method: 'GET', url: `${url}?_summary=data` }));
  t.notOk(data.text);
  t.ok(data.maritalStatus);
  const full = s.json(await s.request({ method: 'GET', url: `${url}?_summary=false` }));
  t.same(full, created);
  const elements = s.json(await s.request({ method: 'GET', url: `${url}?_elements=gender,birthDate` }));
  t.same(Object.keys(elements).sort(), ['birthDate', 'gender', 'id', 'meta', 'resourceType']);
  const bad = await s.request({ method: 'GET', url: `${url}?_summary=everything` });
  t.equal(bad.statusCode, 400);
});

t.test('unknown routes get a 404 OperationOutcome', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'GET', url: '/nothing/here' });
  t.equal(response.statusCode, 404);
  t.equal(s.json(response).resourceType, 'OperationOutcome');
});

t.test('an OperationOutcome carries its issues as narrative too, escaped as XHTML', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'GET', url: '/fhir/Patient?birthdate=<1974&a>b', headers: { prefer: 'handling=strict' } });
  t.equal(response.statusCode, 400);
  const { text, issue } = s.json(response);
  t.match(issue[0].diagnostics, /<1974/, 'the diagnostics quote the value, markup characters and all');
  t.equal(text.status, 'generated');
  t.match(text.div, /^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"><p>error \(/);
  t.ok(text.div.includes(issue[0].diagnostics.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), 'the diagnostics, escaped');
  t.notMatch(text.div.slice(5, -6), /<(?!\/?p>)/, 'no markup but the paragraphs');
});

t.test('healthz and readyz', async (t) => {
  const s = await startTestServer(t);
  t.equal((await s.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const ready = await s.request({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.equal(s.json(ready).status, 'ready');
});

t.test('every response carries a request id, and a given X-Request-Id is kept', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'GET', url: '/fhir/metadata', headers: { 'x-request-id': 'trace-42' } });
  t.equal(response.headers['x-request-id'], 'trace-42');
  const generated = await s.request({ method: 'GET', url: '/fhir/metadata' });
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

t.test('the CapabilityStatement lists each stored type with what it supports', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'GET', url: '/fhir/metadata' });
  t.equal(response.statusCode, 200);
  const cs = s.json(response);
  t.equal(cs.resourceType, 'CapabilityStatement');
  t.equal(cs.fhirVersion, '4.0.1');
  t.same(cs.format, ['application/fhir+json', 'application/json'], 'the formats are MIME types (the binding to MimeType is required)');
  t.equal(cs.text.status, 'generated', 'a narrative for people (dom-6)');
  t.match(cs.text.div, /^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"><p>fhir-records-server .*Patient/);
  const byType = Object.fromEntries(cs.rest[0].resource.map((r: any) => [r.type, r.interaction.map((i: any) => i.code)]));
  for (const type of ['Patient', 'DocumentReference', 'Consent']) {
    t.ok(byType[type].includes('update') && byType[type].includes('delete'), type);
  }
  t.notOk(byType.AuditEvent.includes('update'), 'AuditEvent cannot be updated');
  t.notOk(byType.AuditEvent.includes('delete'), 'AuditEvent cannot be deleted');
  t.same(cs.rest[0].interaction, [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }]);
});
