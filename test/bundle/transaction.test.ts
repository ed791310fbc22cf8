import t from 'tap';
import { createResource, patient } from '../helpers/fhir.js';
import { createEntry, dischargeEntries, postBundle, urn } from '../helpers/bundle.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { asCaller } from '../helpers/access.js';

const count = async (s: TestServer, type: string) => s.db.collection(type).countDocuments({ deleted: false });

t.test('a transaction creates every entry and answers transaction-response with status, location, etag, lastModified', async (t) => {
  const s = await startTestServer(t);
  const { entries } = dischargeEntries(3);
  const response = await postBundle(s, 'transaction', entries);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.type, 'transaction-response');
  t.equal(body.entry.length, 5);
  t.equal(await s.db.collection('AuditEvent').countDocuments({ 'resource.source.observer.display': 'EHR' }), 1, 'the posted AuditEvent');
  for (const entry of body.entry) {
    t.equal(entry.response.status, '201 Created');
    t.match(entry.response.location, /^http:\/\/fhir\.test\/fhir\/[A-Za-z]+\/[\w-]+\/_history\/1$/);
    t.equal(entry.response.etag, 'W/"1"');
    t.ok(Date.parse(entry.response.lastModified));
  }
  t.equal(await count(s, 'DocumentReference'), 3);
});

t.test('urn:uuid references are rewritten to the assigned ids in references, Attachment.url and narrative links', async (t) => {
  const s = await startTestServer(t);
  const { entries, patientUrl, firstDocUrl } = dischargeEntries(2);
  const response = await postBundle(s, 'transaction', entries);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  const patientRef = `Patient/${body.entry[0].resource.id}`;
  const firstDocRef = `DocumentReference/${body.entry[1].resource.id}`;
  const doc = (await s.request({ method: 'GET', url: `${s.base}/DocumentReference/${body.entry[2].resource.id}` })).json();
  t.equal(doc.subject.reference, patientRef);
  t.equal(doc.relatesTo[0].target.reference, firstDocRef);
  t.equal(doc.content[0].attachment.url, firstDocRef);
  t.match(doc.text.div, `href="${patientRef}"`);
  t.notOk(JSON.stringify(doc).includes(patientUrl) || JSON.stringify(doc).includes(firstDocUrl), 'no urn:uuid is left');
  t.equal(body.entry[3].resource.entity[0].what.reference, patientRef, 'the AuditEvent names the patient');
});

t.test('the references of a transaction are searchable by the assigned ids', async (t) => {
  const s = await startTestServer(t);
  const { entries } = dischargeEntries(2);
  const body = s.json(await postBundle(s, 'transaction', entries));
  const search = (await s.request({ method: 'GET', url: `${s.base}/DocumentReference?subject=Patient/${body.entry[0].resource.id}` })).json();
  t.equal(search.entry.length, 2);
});

t.test('a transaction with an invalid entry fails with its status, names the entry, and writes nothing', async (t) => {
  const s = await startTestServer(t);
  const { entries } = dischargeEntries(2);
  entries.push(createEntry({ resourceType: 'DocumentReference', status: 'not-a-status', content: [{ attachment: { title: 'x' } }] }));
  const response = await postBundle(s, 'transaction', entries);
  t.equal(response.statusCode, 422);
  const outcome = s.json(response);
  t.equal(outcome.resourceType, 'OperationOutcome');
  t.match(outcome.issue[0].diagnostics, /^Entry 5 \(POST DocumentReference\) failed/);
  t.same(outcome.issue[0].expression, ['Bundle.entry[4]']);
  t.equal(await count(s, 'Patient'), 0);
  t.equal(await count(s, 'DocumentReference'), 0);
  t.equal(await s.db.collection('history').countDocuments(), 0, 'no history either');
});

t.test('a failed transaction leaves earlier resources unchanged (an update in it is rolled back)', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Before'));
  const response = await postBundle(s, 'transaction', [
    { resource: { ...existing, name: [{ family: 'After' }] }, request: { method: 'PUT', url: `Patient/${existing.id}` } },
    { request: { method: 'GET', url: 'Patient/does-not-exist' } },
  ]);
  t.equal(response.statusCode, 404);
  const read = (await s.request({ method: 'GET', url: `${s.base}/Patient/${existing.id}` })).json();
  t.equal(read.name[0].family, 'Before');
  t.equal(read.meta.versionId, '1');
});

t.test('transaction entries are processed DELETE, POST, PUT, GET whatever their order in the bundle', async (t) => {
  const s = await startTestServer(t);
  const doomed = await createResource(s, patient('Doomed'));
  const updated = await createResource(s, patient('Old'));
  const response = await postBundle(s, 'transaction', [
    { request: { method: 'GET', url: `Patient?family=New` } },
    { resource: { ...updated, name: [{ family: 'New' }] }, request: { method: 'PUT', url: `Patient/${updated.id}` } },
    createEntry(patient('New')),
    { request: { method: 'DELETE', url: `Patient/${doomed.id}` } },
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.entry[0].resource.type, 'searchset');
  t.equal(body.entry[0].resource.entry.length, 2, 'the search (last) sees the update and the create');
  t.equal(body.entry[1].response.status, '200 OK');
  t.equal(body.entry[2].response.status, '201 Created');
  t.equal(body.entry[3].response.status, '204 No Content');
});

t.test('If-Match inside a transaction is honoured: a stale version fails it with 412', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Match'));
  const ok = await postBundle(s, 'transaction', [{ resource: existing, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"1"' } }]);
  t.equal(ok.statusCode, 200, ok.body);
  const stale = await postBundle(s, 'transaction', [
    createEntry(patient('Extra')),
    { resource: existing, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"1"' } },
  ]);
  t.equal(stale.statusCode, 412);
  t.equal(await count(s, 'Patient'), 1, 'the create of the failed transaction is not visible');
});

t.test('conditional references are resolved to the one match', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Ref', { identifier: [{ system: 'http://hospital.test/mrn', value: 'ref-1' }] }));
  const response = await postBundle(s, 'transaction', [
    createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }], subject: { reference: 'Patient?identifier=http://hospital.test/mrn|ref-1' } }),
  ]);
  t.equal(response.statusCode, 200, response.body);
  t.equal(s.json(response).entry[0].resource.subject.reference, `Patient/${existing.id}`);
});

t.test('a conditional reference with no match or several fails the transaction', async (t) => {
  const s = await startTestServer(t);
  await createResource(s, patient('Twin', { identifier: [{ system: 'http://hospital.test/mrn', value: 'twin' }] }));
  await createResource(s, patient('Twin', { identifier: [{ system: 'http://hospital.test/mrn', value: 'twin' }] }));
  for (const value of ['nobody', 'twin']) {
    const response = await postBundle(s, 'transaction', [
      createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }], subject: { reference: `Patient?identifier=http://hospital.test/mrn|${value}` } }),
    ]);
    t.equal(response.statusCode, 412, value);
  }
  t.equal(await count(s, 'DocumentReference'), 0);
});

t.test('a conditional create in a transaction that matches answers 200 and references point at the match', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Known', { identifier: [{ system: 'http://hospital.test/mrn', value: 'known' }] }));
  const patientUrl = urn();
  const response = await postBundle(s, 'transaction', [
    createEntry(patient('Known'), patientUrl, { ifNoneExist: 'identifier=http://hospital.test/mrn|known' }),
    createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }], subject: { reference: patientUrl } }),
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.entry[0].response.status, '200 OK');
  t.equal(body.entry[1].resource.subject.reference, `Patient/${existing.id}`);
  t.equal(await count(s, 'Patient'), 1);
});

t.test('two entries writing the same resource fail the transaction with 400', async (t) => {
  const s = await startTestServer(t);
  const body = { resourceType: 'Patient', id: 'twice' };
  const response = await postBundle(s, 'transaction', [
    { resource: body, request: { method: 'PUT', url: 'Patient/twice' } },
    { resource: body, request: { method: 'PUT', url: 'Patient/twice' } },
  ]);
  t.equal(response.statusCode, 400);
  t.equal(await count(s, 'Patient'), 0);
});

t.test('Prefer: return=minimal leaves resources out; return=OperationOutcome gives each entry an outcome', async (t) => {
  const s = await startTestServer(t);
  const minimal = s.json(await postBundle(s, 'transaction', [createEntry(patient())], { prefer: 'return=minimal' }));
  t.notOk(minimal.entry[0].resource);
  t.ok(minimal.entry[0].response.location);
  const withOutcome = s.json(await postBundle(s, 'transaction', [createEntry(patient())], { prefer: 'return=OperationOutcome' }));
  t.notOk(withOutcome.entry[0].resource);
  t.equal(withOutcome.entry[0].response.outcome.resourceType, 'OperationOutcome');
});

t.test('more entries than BUNDLE_MAX_ENTRIES answer 413 with an OperationOutcome', async (t) => {
  const s = await startTestServer(t, { env: { BUNDLE_MAX_ENTRIES: '3' } });
  const response = await postBundle(s, 'transaction', Array.from({ length: 4 }, () => createEntry(patient())));
  t.equal(response.statusCode, 413);
  t.equal(s.json(response).issue[0].code, 'too-costly');
});

t.test('a bundle larger than BUNDLE_BODY_LIMIT_BYTES answers 413 with an OperationOutcome', async (t) => {
  const s = await startTestServer(t, { env: { BUNDLE_BODY_LIMIT_BYTES: '2000' } });
  const response = await postBundle(s, 'transaction', Array.from({ length: 20 }, () => createEntry(patient())));
  t.equal(response.statusCode, 413);
  t.equal(s.json(response).resourceType, 'OperationOutcome');
});

t.test('without database transactions a transaction bundle is refused with an OperationOutcome; a batch still works', async (t) => {
  const s = await startTestServer(t, { app: { withoutTransactions: true } });
  const refused = await postBundle(s, 'transaction', [createEntry(patient())]);
  t.equal(refused.statusCode, 501);
  t.match(s.json(refused).issue[0].diagnostics, /standalone MongoDB/);
  const batch = await postBundle(s, 'batch', [createEntry(patient())]);
  t.equal(batch.statusCode, 200);
  t.equal(s.json(batch).entry[0].response.status, '201 Created');
});

t.test('each transaction entry is authorized like the same interaction alone: a missing scope fails it with 403', async (t) => {
  const admin = await startTestServer(t);
  const s = await startTestServer(t, { dbName: admin.db.databaseName, app: asCaller({ scopes: [(await import('../helpers/access.js')).scope('system/Patient.cruds')] }) });
  const response = await postBundle(s, 'transaction', [createEntry(patient()), createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }] })]);
  t.equal(response.statusCode, 403);
  t.match(s.json(response).issue[0].diagnostics, /^Entry 2/);
  t.equal(await count(admin, 'Patient'), 0);
});

t.test('concurrent transactions updating the same resource serialise: consecutive versions, none lost', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Contended'));
  const n = 8;
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      postBundle(s, 'transaction', [
        { resource: { ...existing, name: [{ family: `Writer${i}` }] }, request: { method: 'PUT', url: `Patient/${existing.id}` } },
        createEntry(patient(`Side${i}`)),
      ]),
    ),
  );
  t.same(responses.map((r) => r.statusCode), Array(n).fill(200));
  const history = (await s.request({ method: 'GET', url: `${s.base}/Patient/${existing.id}/_history?_count=100` })).json();
  t.same(history.entry.map((e: any) => Number(e.resource.meta.versionId)), Array.from({ length: n + 1 }, (_, i) => n + 1 - i));
});

t.test('two transactions creating the same conditional resource at once, on two instances, make one', async (t) => {
  const a = await startTestServer(t);
  const b = await startTestServer(t, { dbName: a.db.databaseName });
  await createResource(a, patient('Warm-up'));
  const mrn = 'http://hospital.test/mrn|tx-race';
  const bundleFor = () => [
    createEntry(patient('Raced', { identifier: [{ system: 'http://hospital.test/mrn', value: 'tx-race' }] }), undefined, { ifNoneExist: `identifier=${mrn}` }),
    createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }] }),
  ];
  const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => postBundle(i % 2 ? a : b, 'transaction', bundleFor())));
  t.same(responses.map((r) => r.statusCode), Array(6).fill(200));
  t.same(responses.map((r) => JSON.parse(r.body).entry[0].response.status).sort(), ['200 OK', '200 OK', '200 OK', '200 OK', '200 OK', '201 Created']);
  t.equal(await a.db.collection('Patient').countDocuments({ 'resource.identifier.value': 'tx-race' }), 1);
});
