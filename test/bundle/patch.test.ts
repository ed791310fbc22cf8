import t from 'tap';
import { createResource, patient } from '../helpers/fhir.js';
import { postBundle } from '../helpers/bundle.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';

const JSON_PATCH = { 'content-type': 'application/json-patch+json' };

function jsonPatch(s: TestServer, id: string, operations: unknown[], headers: Record<string, string> = {}) {
  return s.request({ method: 'PATCH', url: `${s.base}/Patient/${id}`, headers: { ...JSON_PATCH, ...headers }, payload: JSON.stringify(operations) });
}

const operation = (type: string, path: string, extra: Record<string, unknown> = {}) => ({
  name: 'operation',
  part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...Object.entries(extra).map(([name, value]) => (typeof value === 'object' && value !== null && 'part' in value ? { name, ...value } : { name, ...(value as object) }))],
});

function fhirPathPatch(s: TestServer, id: string, operations: unknown[], headers: Record<string, string> = {}) {
  return s.request({ method: 'PATCH', url: `${s.base}/Patient/${id}`, headers: { ...FHIR_JSON_HEADERS, ...headers }, payload: { resourceType: 'Parameters', parameter: operations } });
}

t.test('JSON Patch replaces a value and makes version 2', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient('Before'));
  const response = await jsonPatch(s, p.id, [{ op: 'replace', path: '/name/0/family', value: 'After' }]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.name[0].family, 'After');
  t.equal(body.meta.versionId, '2');
  t.equal(response.headers.etag, 'W/"2"');
});

t.test('JSON Patch add, remove, move, copy and a passing test apply in order', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient('Ops'));
  const response = await jsonPatch(s, p.id, [
    { op: 'test', path: '/gender', value: 'male' },
    { op: 'add', path: '/active', value: true },
    { op: 'remove', path: '/birthDate' },
    { op: 'move', from: '/name/0/given/1', path: '/name/0/given/0' },
    { op: 'copy', from: '/name/0', path: '/name/-' },
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.active, true);
  t.notOk(body.birthDate);
  t.same(body.name[0].given, ['James', 'Peter']);
  t.equal(body.name.length, 2);
});

t.test('JSON Patch that removes the last item of a list leaves the element absent, not an empty list', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, { ...patient('Only'), telecom: [{ system: 'phone', value: '555-0100' }] });
  const response = await jsonPatch(s, p.id, [{ op: 'remove', path: '/telecom/0' }, { op: 'remove', path: '/name/0/given/1' }, { op: 'remove', path: '/name/0/given/0' }]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.notOk('telecom' in body, 'telecom removed with its last item');
  t.notOk('given' in body.name[0], 'given removed with its last item');
  t.equal(body.name[0].family, 'Only');
});

t.test('JSON Patch with a failing test operation is 422 and changes nothing', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient('Tested'));
  const response = await jsonPatch(s, p.id, [{ op: 'test', path: '/gender', value: 'female' }, { op: 'replace', path: '/gender', value: 'female' }]);
  t.equal(response.statusCode, 422);
  t.match(s.json(response).issue[0].diagnostics, /test/);
  t.equal((await s.request({ method: 'GET', url: `${s.base}/Patient/${p.id}` })).json().meta.versionId, '1');
});

t.test('JSON Patch with a path that does not exist is 422', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await jsonPatch(s, p.id, [{ op: 'replace', path: '/telecom/3/value', value: 'x' }]);
  t.equal(response.statusCode, 422);
});

t.test('JSON Patch that is not a list of operations is 400', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await s.request({ method: 'PATCH', url: `${s.base}/Patient/${p.id}`, headers: JSON_PATCH, payload: JSON.stringify({ op: 'remove' }) });
  t.equal(response.statusCode, 400);
  const unknownOp = await jsonPatch(s, p.id, [{ op: 'frobnicate', path: '/gender' }]);
  t.equal(unknownOp.statusCode, 400);
});

t.test('a patch whose result is invalid is 422 like any update', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await jsonPatch(s, p.id, [{ op: 'replace', path: '/gender', value: 'not-a-gender' }]);
  t.equal(response.statusCode, 422);
});

t.test('a patch that changes the id is 422', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await jsonPatch(s, p.id, [{ op: 'replace', path: '/id', value: 'other' }]);
  t.equal(response.statusCode, 422);
});

t.test('a patch adding a key MongoDB would read as an operator is refused', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await jsonPatch(s, p.id, [{ op: 'add', path: '/$where', value: 'x' }]);
  t.equal(response.statusCode, 400);
});

t.test('PATCH with If-Match of the current version applies; a stale one is 412', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  t.equal((await jsonPatch(s, p.id, [{ op: 'add', path: '/active', value: true }], { 'if-match': 'W/"1"' })).statusCode, 200);
  t.equal((await jsonPatch(s, p.id, [{ op: 'add', path: '/active', value: false }], { 'if-match': 'W/"1"' })).statusCode, 412);
});

t.test('PATCH of an unknown resource is 404, of a deleted one 410', async (t) => {
  const s = await startTestServer(t);
  t.equal((await jsonPatch(s, 'nobody', [{ op: 'add', path: '/active', value: true }])).statusCode, 404);
  const p = await createResource(s, patient());
  await s.request({ method: 'DELETE', url: `${s.base}/Patient/${p.id}` });
  t.equal((await jsonPatch(s, p.id, [{ op: 'add', path: '/active', value: true }])).statusCode, 410);
});

t.test('PATCH with another content type is 415', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await s.request({ method: 'PATCH', url: `${s.base}/Patient/${p.id}`, headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient' } });
  t.equal(response.statusCode, 415);
});

t.test('concurrent JSON Patches without If-Match all apply, each to the version before', async (t) => {
  const s = await startTestServer(t);
  // FHIR JSON has no empty arrays: the list starts with one name.
  const p = await createResource(s, patient('Many', { name: [{ family: 'Many', given: ['g'] }] }));
  const n = 6;
  const responses = await Promise.all(Array.from({ length: n }, (_, i) => jsonPatch(s, p.id, [{ op: 'add', path: '/name/0/given/-', value: `g${i}` }])));
  t.same(responses.map((r) => r.statusCode), Array(n).fill(200));
  const final = (await s.request({ method: 'GET', url: `${s.base}/Patient/${p.id}` })).json();
  t.equal(final.meta.versionId, String(n + 1));
  t.equal(final.name[0].given.length, n + 1, 'no patch was lost');
});

t.test('FHIRPath Patch add puts a new element (a list item when the element repeats)', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await fhirPathPatch(s, p.id, [
    operation('add', 'Patient', { name: { valueString: 'active' }, value: { valueBoolean: true } }),
    operation('add', 'Patient', { name: { valueString: 'telecom' }, value: { part: [{ name: 'system', valueCode: 'phone' }, { name: 'value', valueString: '555-0100' }] } }),
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.active, true);
  t.same(body.telecom, [{ system: 'phone', value: '555-0100' }]);
});

t.test('FHIRPath Patch insert places a list item at an index', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await fhirPathPatch(s, p.id, [operation('insert', 'Patient.name[0].given', { index: { valueInteger: 0 }, value: { valueString: 'First' } })]);
  t.equal(response.statusCode, 200, response.body);
  t.same(s.json(response).name[0].given, ['First', 'Peter', 'James']);
});

t.test('FHIRPath Patch replace and delete change and remove elements', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await fhirPathPatch(s, p.id, [
    operation('replace', 'Patient.birthDate', { value: { valueDate: '1980-01-01' } }),
    operation('delete', 'Patient.name[0].given[1]'),
    operation('delete', 'Patient.gender'),
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.birthDate, '1980-01-01');
  t.same(body.name[0].given, ['Peter']);
  t.notOk(body.gender);
});

t.test('FHIRPath Patch move reorders a list', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await fhirPathPatch(s, p.id, [operation('move', 'Patient.name[0].given', { source: { valueInteger: 1 }, destination: { valueInteger: 0 } })]);
  t.equal(response.statusCode, 200, response.body);
  t.same(s.json(response).name[0].given, ['James', 'Peter']);
});

t.test('FHIRPath Patch replace of a path matching several elements is 422', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const response = await fhirPathPatch(s, p.id, [operation('replace', 'Patient.name.given', { value: { valueString: 'x' } })]);
  t.equal(response.statusCode, 422);
});

t.test('FHIRPath Patch with an unknown operation type is 400, with a bad expression 422', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  t.equal((await fhirPathPatch(s, p.id, [operation('frob', 'Patient.name')])).statusCode, 400);
  t.equal((await fhirPathPatch(s, p.id, [operation('delete', 'Patient.name[[')])).statusCode, 422);
});

t.test('conditional PATCH patches the one match', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient('Cond', { identifier: [{ system: 'http://hospital.test/mrn', value: 'patch-1' }] }));
  const response = await s.request({ method: 'PATCH', url: `${s.base}/Patient?identifier=http://hospital.test/mrn|patch-1`, headers: JSON_PATCH, payload: JSON.stringify([{ op: 'add', path: '/active', value: true }]) });
  t.equal(response.statusCode, 200, response.body);
  t.equal(s.json(response).id, p.id);
});

t.test('PATCH inside a transaction: a Binary JSON Patch and a FHIRPath Parameters', async (t) => {
  const s = await startTestServer(t);
  const a = await createResource(s, patient('A'));
  const b = await createResource(s, patient('B'));
  const data = Buffer.from(JSON.stringify([{ op: 'replace', path: '/name/0/family', value: 'A2' }])).toString('base64');
  const response = await postBundle(s, 'transaction', [
    { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: `Patient/${a.id}` } },
    { resource: { resourceType: 'Parameters', parameter: [operation('replace', 'Patient.name[0].family', { value: { valueString: 'B2' } })] }, request: { method: 'PATCH', url: `Patient/${b.id}` } },
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.entry[0].resource.name[0].family, 'A2');
  t.equal(body.entry[1].resource.name[0].family, 'B2');
});

t.test('a failing patch inside a transaction fails it and nothing is applied', async (t) => {
  const s = await startTestServer(t);
  const a = await createResource(s, patient('A'));
  const data = (ops: unknown[]) => Buffer.from(JSON.stringify(ops)).toString('base64');
  const response = await postBundle(s, 'transaction', [
    { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: data([{ op: 'replace', path: '/name/0/family', value: 'A2' }]) }, request: { method: 'PATCH', url: `Patient/${a.id}` } },
    { resource: { resourceType: 'Patient', name: [{ family: 'New' }] }, request: { method: 'POST', url: 'Patient' } },
    { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: data([{ op: 'test', path: '/gender', value: 'other' }]) }, request: { method: 'PATCH', url: `Patient/${a.id}` } },
  ]);
  t.equal(response.statusCode, 422);
  t.equal((await s.request({ method: 'GET', url: `${s.base}/Patient/${a.id}` })).json().name[0].family, 'A');
  t.equal(await s.db.collection('Patient').countDocuments(), 1);
});
