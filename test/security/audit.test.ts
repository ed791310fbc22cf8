import type { CommandStartedEvent } from 'mongodb';
import t, { type Test } from 'tap';
import type { Caller } from '../../src/security/context.js';
import { scope } from '../helpers/access.js';
import { createResource, patient, putResource } from '../helpers/fhir.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';

const REST_INTERACTION = 'http://hl7.org/fhir/restful-interaction';

let requests = 0;
/** A request id of this test run, sent as X-Request-Id: the AuditEvent names it. */
const nextId = () => `audit-test-${process.pid}-${++requests}`;

/** Sends a request with a fresh X-Request-Id; returns the response and that id. */
async function send(s: TestServer, method: string, url: string, options: { payload?: unknown; headers?: Record<string, string> } = {}) {
  const id = nextId();
  const response = await s.request({
    method: method as 'GET',
    url,
    headers: { 'x-request-id': id, ...(options.payload !== undefined ? FHIR_JSON_HEADERS : {}), ...options.headers },
    ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
  });
  return { response, id };
}

/** The AuditEvents recorded for one request (found by BALP's X-Request-Id entity). */
function eventsOf(s: TestServer, requestId: string): Promise<any[]> {
  return s.db
    .collection('AuditEvent')
    .find({ 'resource.entity.what.identifier.value': requestId })
    .toArray()
    .then((docs) => docs.map((d) => d.resource));
}

async function eventOf(t: Test, s: TestServer, requestId: string): Promise<any> {
  const events = await eventsOf(s, requestId);
  t.equal(events.length, 1, 'exactly one AuditEvent for the request');
  return events[0];
}

const subtype = (event: any) => event.subtype?.find((c: any) => c.system === REST_INTERACTION)?.code;
const references = (event: any) => event.entity.filter((e: any) => e.what?.reference).map((e: any) => e.what.reference);
const patientEntities = (event: any) =>
  event.entity.filter((e: any) => e.role?.code === '1' && e.type?.code === '1').map((e: any) => e.what.reference);
const queryOf = (event: any) => {
  const entity = event.entity.find((e: any) => e.query !== undefined);
  return entity && Buffer.from(entity.query, 'base64').toString('utf8');
};

const documentReference = (patientId: string) => ({
  resourceType: 'DocumentReference',
  status: 'current',
  subject: { reference: `Patient/${patientId}` },
  content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }],
});

t.test('a read records one AuditEvent: rest/read, action R, outcome 0, the patient read as entity', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const { response, id } = await send(s, 'GET', `/fhir/Patient/${p.id}`);
  t.equal(response.statusCode, 200);
  const event = await eventOf(t, s, id);
  t.same(event.type, { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' });
  t.equal(subtype(event), 'read');
  t.equal(event.action, 'R');
  t.equal(event.outcome, '0');
  t.equal(event.outcomeDesc, '200 OK');
  t.same(patientEntities(event), [`Patient/${p.id}/_history/1`], 'the Patient read is the patient entity, version-specific');
  t.ok(Date.parse(event.recorded) <= Date.now());
  t.same(event.source, {
    observer: { display: 'http://fhir.test/fhir' },
    type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
  });
  t.notOk(JSON.stringify(event).includes('Chalmers'), 'nothing of the resource read is in the event');
});

t.test('a read of a resource names it and the patients of its compartments', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const doc = await createResource(s, documentReference(p.id));
  const { id } = await send(s, 'GET', `/fhir/DocumentReference/${doc.id}`);
  const event = await eventOf(t, s, id);
  const resource = event.entity.find((e: any) => e.what?.reference === `DocumentReference/${doc.id}/_history/1`);
  t.same(resource?.type, { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' });
  t.same(patientEntities(event), [`Patient/${p.id}`], 'the patient of its compartments');
});

t.test('a search records its query and each patient of the results', async (t) => {
  const s = await startTestServer(t);
  const a = await createResource(s, patient('Okafor'));
  const b = await createResource(s, patient('Okafor', { gender: 'female' }));
  await createResource(s, patient('Lindqvist'));
  const { response, id } = await send(s, 'GET', '/fhir/Patient?family=okafor&_count=10');
  t.equal(s.json(response).entry.length, 2);
  const event = await eventOf(t, s, id);
  t.same(patientEntities(event).sort(), [`Patient/${a.id}`, `Patient/${b.id}`].sort(), 'one event names both patients');
  t.equal(subtype(event), 'search-type');
  t.equal(event.action, 'R');
  t.equal(queryOf(event), 'family=okafor&_count=10', 'the query entity holds the query string, base64');
  const query = event.entity.find((e: any) => e.query !== undefined);
  t.same(query.type.code, '2');
  t.same(query.role, { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' });
});

t.test('a compartment search records the compartment patient; POST _search records the form query', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  await createResource(s, documentReference(p.id));
  const compartment = await send(s, 'GET', `/fhir/Patient/${p.id}/DocumentReference?status=current`);
  t.equal(compartment.response.statusCode, 200);
  const event = await eventOf(t, s, compartment.id);
  t.equal(subtype(event), 'search');
  t.same(patientEntities(event), [`Patient/${p.id}`]);
  t.equal(queryOf(event), 'status=current');

  const id = nextId();
  const posted = await s.request({
    method: 'POST',
    url: '/fhir/Patient/_search',
    headers: { 'x-request-id': id, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'family=chalmers',
  });
  t.equal(posted.statusCode, 200);
  const searched = await eventOf(t, s, id);
  t.equal(subtype(searched), 'search-type');
  t.equal(queryOf(searched), 'family=chalmers');
});

t.test('a search without parameters has a query entity without an (empty, invalid) query', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const { response, id } = await send(s, 'GET', `/fhir/Patient/${p.id}/DocumentReference`);
  t.equal(response.statusCode, 200);
  const event = await eventOf(t, s, id);
  const queries = event.entity.filter((e: any) => e.role?.code === '24');
  t.same(queries, [{ type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' } }]);
});

t.test('a create records action C with the new resource', async (t) => {
  const s = await startTestServer(t);
  const { response, id } = await send(s, 'POST', '/fhir/Patient', { payload: patient() });
  t.equal(response.statusCode, 201);
  const created = s.json(response);
  const event = await eventOf(t, s, id);
  t.equal(subtype(event), 'create');
  t.equal(event.action, 'C');
  t.equal(event.outcome, '0');
  t.same(references(event), [`Patient/${created.id}/_history/1`]);
});

t.test('update, delete, vread, history and $validate record their interaction and action', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const cases: [string, string, unknown, string, string, string | undefined][] = [
    ['PUT', `/fhir/Patient/${p.id}`, { ...p, gender: 'female' }, 'update', 'U', `Patient/${p.id}/_history/2`],
    ['GET', `/fhir/Patient/${p.id}/_history/1`, undefined, 'vread', 'R', `Patient/${p.id}/_history/1`],
    ['GET', `/fhir/Patient/${p.id}/_history`, undefined, 'history-instance', 'R', `Patient/${p.id}`],
    ['GET', '/fhir/Patient/_history', undefined, 'history-type', 'R', `Patient/${p.id}`],
    ['GET', '/fhir/_history', undefined, 'history-system', 'R', `Patient/${p.id}`],
    ['POST', '/fhir/Patient/$validate', patient(), 'operation', 'E', undefined],
    ['GET', '/fhir/metadata', undefined, 'capabilities', 'R', undefined],
    ['DELETE', `/fhir/Patient/${p.id}`, undefined, 'delete', 'D', `Patient/${p.id}/_history/3`],
  ];
  for (const [method, url, payload, interaction, action, reference] of cases) {
    const { response, id } = await send(s, method, url, { payload });
    t.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode}`);
    const event = await eventOf(t, s, id);
    t.equal(subtype(event), interaction, `${method} ${url} is ${interaction}`);
    t.equal(event.action, action);
    if (reference) t.ok(references(event).includes(reference), `${interaction} names ${reference}`);
    else t.same(references(event), [], `${interaction} names no resource`);
  }
});

t.test('a 404 read of a missing id records outcome 4 with the resource asked for', async (t) => {
  const s = await startTestServer(t);
  const { response, id } = await send(s, 'GET', '/fhir/Patient/no-such-id');
  t.equal(response.statusCode, 404);
  const event = await eventOf(t, s, id);
  t.equal(subtype(event), 'read');
  t.equal(event.outcome, '4');
  t.equal(event.outcomeDesc, '404 Not Found');
  t.same(patientEntities(event), ['Patient/no-such-id']);
});

t.test('a 400 search records outcome 4 and the query asked', async (t) => {
  const s = await startTestServer(t);
  const { response, id } = await send(s, 'GET', '/fhir/Patient?birthdate=not-a-date');
  t.equal(response.statusCode, 400);
  const event = await eventOf(t, s, id);
  t.equal(subtype(event), 'search-type');
  t.equal(event.outcome, '4');
  t.equal(queryOf(event), 'birthdate=not-a-date');
});

t.test('a 405 update of an AuditEvent records outcome 4', async (t) => {
  const s = await startTestServer(t);
  await send(s, 'GET', '/fhir/metadata');
  const [stored] = await s.db.collection('AuditEvent').find().toArray();
  const { response, id } = await send(s, 'PUT', `/fhir/AuditEvent/${stored._id}`, { payload: { ...stored.resource, outcome: '8' } });
  t.equal(response.statusCode, 405);
  const event = await eventOf(t, s, id);
  t.equal(subtype(event), 'update');
  t.equal(event.action, 'U');
  t.equal(event.outcome, '4');
  t.same(references(event), [`AuditEvent/${stored._id}`]);
});

t.test('a request to an unknown path under the base records outcome 4 without a subtype', async (t) => {
  const s = await startTestServer(t);
  const { response, id } = await send(s, 'GET', '/fhir/Patient/a/b/c/d');
  t.equal(response.statusCode, 404);
  const event = await eventOf(t, s, id);
  t.equal(event.subtype, undefined, 'no interaction matched');
  t.equal(event.action, 'R');
  t.equal(event.outcome, '4');
});

t.test('a server fault records outcome 8', async (t) => {
  const s = await startTestServer(t, {
    app: {
      contextHook: (ctx, request) => {
        if (request.headers['x-test-fault']) throw new Error('a fault before any service ran');
        return ctx;
      },
    },
  });
  const { response, id } = await send(s, 'GET', '/fhir/Patient/p1', { headers: { 'x-test-fault': '1' } });
  t.equal(response.statusCode, 500);
  const event = await eventOf(t, s, id);
  t.equal(event.outcome, '8');
  t.equal(event.outcomeDesc, '500 Internal Server Error');
  t.equal(subtype(event), 'read');
});

t.test('the agents: client with its network address, the user from fhirUser and sub, purposes of use', async (t) => {
  const caller: Caller = {
    authenticated: true,
    clientId: 'ward-app',
    subject: 'u-4711',
    fhirUser: 'Practitioner/dr-1',
    scopes: [scope('system/*.cruds')],
    purposeOfUse: ['TREAT'],
    grantedLabels: [], roles: [],
    address: '10.1.2.3',
    breakGlass: false,
  };
  const s = await startTestServer(t, { app: { contextHook: (ctx) => ({ ...ctx, caller }) } });
  const { id } = await send(s, 'GET', '/fhir/metadata');
  const event = await eventOf(t, s, id);
  const [client, user, server] = event.agent;
  t.same(client.who, { identifier: { value: 'ward-app' } });
  t.same(client.network, { address: '10.1.2.3', type: '2' });
  t.equal(client.requestor, false, 'the user is the initiator when the token names one');
  t.same(client.type.coding[0], { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' });
  t.same(user.who, { reference: 'Practitioner/dr-1', identifier: { value: 'u-4711' } });
  t.equal(user.requestor, true);
  t.same(user.purposeOfUse, [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }]);
  t.equal(server.requestor, false);
  t.equal(server.who.display, 'http://fhir.test/fhir');
  t.equal(event.meta.security, undefined, 'no break-glass mark');
});

t.test('without a user, the client is the requestor and carries the purposes of use', async (t) => {
  const caller: Caller = { authenticated: true, clientId: 'batch-job', scopes: [scope('system/*.cruds')], purposeOfUse: ['HOPERAT'], grantedLabels: [], roles: [], address: '10.0.0.9', breakGlass: false };
  const s = await startTestServer(t, { app: { contextHook: (ctx) => ({ ...ctx, caller }) } });
  const { id } = await send(s, 'GET', '/fhir/metadata');
  const event = await eventOf(t, s, id);
  t.equal(event.agent.length, 2, 'client and server');
  t.equal(event.agent[0].requestor, true);
  t.equal(event.agent[0].purposeOfUse[0].coding[0].code, 'HOPERAT');
});

t.test('a break-glass access is marked: meta.security BTG and purpose of use BTG', async (t) => {
  const caller = { authenticated: true, clientId: 'er-app', subject: 'u-1', scopes: [scope('system/*.cruds')], purposeOfUse: ['ETREAT'], grantedLabels: [], roles: [], address: '10.0.0.1', breakGlass: true };
  const s = await startTestServer(t, { app: { contextHook: (ctx) => ({ ...ctx, caller }) } });
  const { id } = await send(s, 'GET', '/fhir/metadata');
  const event = await eventOf(t, s, id);
  const btg = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' };
  t.same(event.meta.security, [btg]);
  const codes = event.agent[1].purposeOfUse.map((p: any) => p.coding[0].code);
  t.same(codes, ['ETREAT', 'BTG']);
});

t.test('the AuditEvent recorded is valid R4 for the server\'s own validator', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  const search = await send(s, 'GET', `/fhir/Patient?_id=${p.id}`);
  const failed = await send(s, 'GET', '/fhir/Patient/missing');
  for (const id of [search.id, failed.id]) {
    const event = await eventOf(t, s, id);
    const report = s.json(await s.request({ method: 'POST', url: '/fhir/AuditEvent/$validate', headers: FHIR_JSON_HEADERS, payload: event }));
    const errors = report.issue.filter((i: any) => i.severity === 'error' || i.severity === 'fatal');
    t.same(errors, [], 'no validation errors');
  }
});

t.test('50 concurrent reads give 50 AuditEvents in fewer inserts than requests', async (t) => {
  const s = await startTestServer(t, { client: { monitorCommands: true } });
  const p = await createResource(s, patient());
  const inserts: number[] = [];
  const onCommand = (event: CommandStartedEvent) => {
    if (event.commandName === 'insert' && event.command.insert === 'AuditEvent') inserts.push(event.command.documents.length);
  };
  s.client.on('commandStarted', onCommand);
  const responses = await Promise.all(Array.from({ length: 50 }, () => send(s, 'GET', `/fhir/Patient/${p.id}`)));
  s.client.off('commandStarted', onCommand);
  t.ok(responses.every((r) => r.response.statusCode === 200));
  const recorded = await s.db.collection('AuditEvent').countDocuments({ 'resource.entity.what.identifier.value': { $in: responses.map((r) => r.id) } });
  t.equal(recorded, 50, 'one AuditEvent per request');
  t.equal(inserts.reduce((a, b) => a + b, 0), 50, 'every event was inserted once');
  t.comment(`50 reads: ${inserts.length} inserts into AuditEvent of ${inserts.join(', ')} events`);
  t.ok(inserts.length < 50, `${inserts.length} inserts for 50 requests`);
});

t.test('AuditEvents are searchable by entity, patient, agent and date', async (t) => {
  const caller: Caller = { authenticated: true, clientId: 'c1', fhirUser: 'Practitioner/dr-7', scopes: [scope('system/*.cruds')], purposeOfUse: [], grantedLabels: [], roles: [], address: '10.0.0.2', breakGlass: false };
  const s = await startTestServer(t, { app: { contextHook: (ctx) => ({ ...ctx, caller }) } });
  const p = await createResource(s, patient());
  const before = new Date(Date.now() - 1000).toISOString();
  const first = await send(s, 'GET', `/fhir/Patient/${p.id}`);
  const second = await send(s, 'GET', `/fhir/Patient/${p.id}/_history/1`);
  const requestIdsOf = async (query: string) => {
    const response = await s.request({ method: 'GET', url: `/fhir/AuditEvent?${query}&_count=100` });
    t.equal(response.statusCode, 200, query);
    return (s.json(response).entry ?? [])
      .map((e: any) => e.resource.entity.find((x: any) => x.type?.code === 'XrequestId')?.what.identifier.value)
      .filter((id: string) => id === first.id || id === second.id)
      .sort();
  };
  const both = [first.id, second.id].sort();
  t.same(await requestIdsOf(`entity=Patient/${p.id}`), both, 'entity=Patient/x');
  t.same(await requestIdsOf(`patient=${p.id}`), both, 'patient=x');
  t.same(await requestIdsOf(`patient=Patient/${p.id}`), both, 'patient=Patient/x');
  t.same(await requestIdsOf('agent=Practitioner/dr-7'), both, 'agent=the user');
  t.same(await requestIdsOf(`date=ge${encodeURIComponent(before)}&subtype=${REST_INTERACTION}|vread`), [second.id], 'date and subtype');
});

t.test('AuditEvents cannot be updated, patched or deleted', async (t) => {
  const s = await startTestServer(t);
  await send(s, 'GET', '/fhir/metadata');
  const [stored] = await s.db.collection('AuditEvent').find().toArray();
  const url = `/fhir/AuditEvent/${stored._id}`;
  const put = await putResource(s, { ...stored.resource, outcome: '8' });
  t.equal(put.statusCode, 405);
  t.equal(put.headers.allow, 'GET, POST');
  const del = await s.request({ method: 'DELETE', url });
  t.equal(del.statusCode, 405);
  const patch = await s.request({ method: 'PATCH', url, headers: { 'content-type': 'application/json-patch+json' }, payload: '[]' });
  t.ok(patch.statusCode >= 400, `PATCH has no route: ${patch.statusCode}`);
  const read = s.json(await s.request({ method: 'GET', url }));
  t.equal(read.meta.versionId, '1');
  t.same({ ...read, meta: undefined }, { ...stored.resource, meta: undefined }, 'the record is untouched');
});

t.test('a client may still POST an AuditEvent of its own', async (t) => {
  const s = await startTestServer(t);
  const own = {
    resourceType: 'AuditEvent',
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
    recorded: '2024-01-01T10:00:00Z',
    agent: [{ requestor: true, who: { display: 'records clerk' } }],
    source: { observer: { display: 'ward system' } },
  };
  const { response, id } = await send(s, 'POST', '/fhir/AuditEvent', { payload: own });
  t.equal(response.statusCode, 201);
  const event = await eventOf(t, s, id);
  t.equal(subtype(event), 'create', 'and its create is audited like any other');
});

t.test('health probes are not audited', async (t) => {
  const s = await startTestServer(t);
  const { response, id } = await send(s, 'GET', '/healthz');
  t.equal(response.statusCode, 200);
  t.same(await eventsOf(s, id), []);
  t.equal(await s.db.collection('AuditEvent').countDocuments(), 0);
});

t.test('AuditEvents keep no history versions: their one version is read as version 1', async (t) => {
  const s = await startTestServer(t);
  await createResource(s, patient());
  const system = s.json(await s.request({ method: 'GET', url: '/fhir/_history' }));
  t.same(system.entry.map((e: any) => e.resource.resourceType), ['Patient'], 'system history is not filled by the trail');
  const [event] = await eventsOf(s, (await send(s, 'GET', '/fhir/metadata')).id);
  t.equal((await s.request({ method: 'GET', url: `/fhir/AuditEvent/${event.id}/_history/1` })).statusCode, 200);
  t.equal((await s.request({ method: 'GET', url: `/fhir/AuditEvent/${event.id}/_history/2` })).statusCode, 404);
  const instance = s.json(await s.request({ method: 'GET', url: `/fhir/AuditEvent/${event.id}/_history` }));
  t.equal(instance.total, 1);
  const typeLevel = await s.request({ method: 'GET', url: '/fhir/AuditEvent/_history' });
  t.equal(typeLevel.statusCode, 400, 'the trail is searched, not paged as history');
});

t.test('a search returning several patients records one AuditEvent naming each of them', async (t) => {
  const s = await startTestServer(t);
  const patients = await Promise.all(['Able', 'Baker', 'Cole'].map((family) => createResource(s, patient(family))));
  const ids = patients.map((p) => p.id);
  const { id } = await send(s, 'GET', `/fhir/Patient?_id=${ids.join(',')}`);
  const event = await eventOf(t, s, id);
  t.same(patientEntities(event).sort(), ids.map((p) => `Patient/${p}`).sort());
  t.equal(new URLSearchParams(queryOf(event)).get('_id'), ids.join(','), 'with its query');
  // The same with a batch: each entry's search is one event of its own.
  const batch = await send(s, 'POST', '/fhir', {
    payload: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient?_id=${ids[0]},${ids[1]}` } }, { request: { method: 'GET', url: `Patient?_id=${ids[2]}` } }] },
  });
  const entryEvents = (await eventsOf(s, batch.id)).filter((e) => subtype(e) === 'search-type');
  t.same(entryEvents.map((e) => patientEntities(e).length).sort(), [1, 2], 'one event per entry');
});

t.test('when the AuditEvent of a success cannot be written the answer is withheld: 503', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  // A unique index on a field every event has the same value in: it lets one event in, then
  // every AuditEvent insert fails with a duplicate key.
  const trail = s.db.collection('AuditEvent');
  await trail.deleteMany({});
  await trail.createIndex({ deleted: 1 }, { unique: true, name: 'test_refuse_audit' });
  t.equal((await send(s, 'GET', '/fhir/metadata')).response.statusCode, 200, 'the one event the index lets in');
  const { response } = await send(s, 'GET', `/fhir/Patient/${p.id}`);
  t.equal(response.statusCode, 503);
  const body = s.json(response);
  t.equal(body.resourceType, 'OperationOutcome');
  t.equal(body.issue[0].code, 'transient');
  t.match(body.issue[0].diagnostics, /could not be recorded/);
  t.notOk(response.body.includes('Chalmers'), 'nothing of the resource is sent');
  t.equal(response.headers.etag, undefined);
  t.equal(response.headers['retry-after'], '5');

  const created = await send(s, 'POST', '/fhir/Patient', { payload: patient('Unrecorded') });
  t.equal(created.response.statusCode, 503, 'a write is not reported as a success either');
  t.equal(created.response.headers.location, undefined);

  const missing = await send(s, 'GET', '/fhir/Patient/no-such-id');
  t.equal(missing.response.statusCode, 404, 'an error answer discloses nothing: it is sent as it is');
});

t.test('the trail offers the search parameters audit reviews select by, and says so in the CapabilityStatement', async (t) => {
  const s = await startTestServer(t);
  const missing = await send(s, 'GET', '/fhir/Patient/missing');
  const failures = s.json(await s.request({ method: 'GET', url: '/fhir/AuditEvent?outcome=4&subtype=http://hl7.org/fhir/restful-interaction|read&_count=100' }));
  const ids = (failures.entry ?? []).map((e: any) => e.resource.entity.find((x: any) => x.type?.code === 'XrequestId')?.what.identifier.value);
  t.ok(ids.includes(missing.id), 'the failed read is found by outcome and subtype');
  const strict = await s.request({ method: 'GET', url: '/fhir/AuditEvent?site=x', headers: { prefer: 'handling=strict' } });
  t.equal(strict.statusCode, 400, 'a parameter the trail does not offer is refused under strict handling');
  const statement = s.json(await s.request({ method: 'GET', url: '/fhir/metadata' }));
  const audit = statement.rest[0].resource.find((r: any) => r.type === 'AuditEvent');
  t.same(audit.searchParam.map((p: any) => p.name).sort(), ['_id', 'action', 'agent', 'date', 'entity', 'outcome', 'patient', 'subtype', 'type']);
});
