/**
 * fhir-kit-client (a widely used FHIR client library for JavaScript) against the unchanged
 * server, over real HTTP on a loopback port: what a third-party client sees.
 */
import t, { type Test } from 'tap';
import { Client, type FhirResource, type PaginationParams } from 'fhir-kit-client';
import type { Bundle, DocumentReference, OperationOutcome, Patient } from 'fhir/r4';
import { patient } from '../helpers/fhir.js';
import { startListeningServer } from '../helpers/listening.js';
import { testIssuer } from '../helpers/tokens.js';

/** The client's error for a non-2xx answer: its status and parsed body. */
interface ClientError {
  response: { status: number; data: Record<string, unknown> };
}

async function refusal(t: Test, call: Promise<unknown>): Promise<ClientError['response']> {
  try {
    await call;
  } catch (error) {
    const response = (error as Partial<ClientError>).response;
    if (response) return response;
    throw error;
  }
  t.fail('the call succeeded');
  return { status: 0, data: {} };
}

const as = <T>(resource: FhirResource) => resource as unknown as T;
/** The client types resources as plain records; @types/fhir's interfaces have no index signature. */
const fhir = (resource: object) => resource as FhirResource;

const server = await startListeningServer(t);
const client = new Client({ baseUrl: server.url });

t.test('create, read, update, vread, history and delete', async (t) => {
  const created = as<Patient>(await client.create({ resourceType: 'Patient', body: patient('Kit') }));
  t.ok(created.id);
  t.equal(created.meta?.versionId, '1');
  const id = created.id!;

  const read = as<Patient>(await client.read({ resourceType: 'Patient', id }));
  t.equal(read.name?.[0].family, 'Kit');
  t.equal(Client.httpFor(fhir(read)).response?.headers.get('etag'), 'W/"1"');

  const updated = as<Patient>(await client.update({ resourceType: 'Patient', id, body: fhir({ ...read, gender: 'female' }) }));
  t.equal(updated.meta?.versionId, '2');
  t.equal(updated.gender, 'female');

  const first = as<Patient>(await client.vread({ resourceType: 'Patient', id, version: '1' }));
  t.equal(first.gender, 'male');

  await client.delete({ resourceType: 'Patient', id });
  const gone = await refusal(t, client.read({ resourceType: 'Patient', id }));
  t.equal(gone.status, 410);
  t.equal(gone.data.resourceType, 'OperationOutcome');

  const history = as<Bundle>(await client.history({ resourceType: 'Patient', id }));
  t.equal(history.type, 'history');
  t.same(history.entry?.map((e) => e.request?.method), ['DELETE', 'PUT', 'POST']);
  t.same(history.entry?.map((e) => e.response?.status.slice(0, 3)), ['204', '200', '201']);
});

t.test('an unknown id is a 404 OperationOutcome through the client error', async (t) => {
  const missing = await refusal(t, client.read({ resourceType: 'Patient', id: 'no-such-patient' }));
  t.equal(missing.status, 404);
  t.equal(as<OperationOutcome>(missing.data as FhirResource).issue[0].code, 'not-found');
});

t.test('search pages followed with nextPage visit every match once, and total counts them', async (t) => {
  const family = `Pager${Date.now()}`;
  const ids = new Set<string>();
  for (let i = 0; i < 23; i++) {
    ids.add(as<Patient>(await client.create({ resourceType: 'Patient', body: patient(family) })).id!);
  }
  let page: Bundle | undefined = as<Bundle>(await client.search({ resourceType: 'Patient', searchParams: { family, _count: 5, _total: 'accurate' } }));
  t.equal(page.total, 23);
  const seen: string[] = [];
  const idsOf = (bundle: Bundle) => (bundle.entry ?? []).map((e) => (e.resource as Patient).id!);
  let pages = 0;
  let last = page;
  while (page) {
    pages++;
    t.equal(page.type, 'searchset');
    seen.push(...idsOf(page));
    last = page;
    const next: Promise<FhirResource> | undefined = client.nextPage({ bundle: fhir(page) as PaginationParams['bundle'] });
    page = next ? as<Bundle>(await next) : undefined;
  }
  t.equal(pages, 5);
  t.equal(seen.length, 23);
  t.equal(new Set(seen).size, 23, 'no duplicates');
  t.same(new Set(seen), ids);

  // And back from the last page with prevPage: the same pages in reverse.
  const backwards: string[][] = [];
  for (let at: Bundle | undefined = last; at; ) {
    backwards.unshift(idsOf(at));
    const previous: Promise<FhirResource> | undefined = client.prevPage({ bundle: fhir(at) as PaginationParams['bundle'] });
    at = previous ? as<Bundle>(await previous) : undefined;
  }
  t.same(backwards.flat(), seen);
});

t.test('search by POST (_search) gives the same matches', async (t) => {
  const family = `Poster${Date.now()}`;
  await client.create({ resourceType: 'Patient', body: patient(family) });
  const bundle = as<Bundle>(await client.search({ resourceType: 'Patient', searchParams: { family }, options: { postSearch: true } }));
  t.equal(bundle.entry?.length, 1);
});

t.test('a transaction resolves urn:uuid references and answers a transaction-response', async (t) => {
  const patientUrn = 'urn:uuid:7d1f0c6e-3b1e-4c5a-9e61-0c2b8f1d0a01';
  const response = as<Bundle>(
    await client.transaction({
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: patientUrn, resource: patient('Transact'), request: { method: 'POST', url: 'Patient' } },
          {
            resource: {
              resourceType: 'DocumentReference',
              status: 'current',
              subject: { reference: patientUrn },
              content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }],
            },
            request: { method: 'POST', url: 'DocumentReference' },
          },
        ],
      },
    }),
  );
  t.equal(response.type, 'transaction-response');
  t.same(response.entry?.map((e) => e.response?.status.slice(0, 3)), ['201', '201']);
  // Locations are absolute: BASE/Type/id/_history/n.
  const idIn = (location = '') => /\/[A-Za-z]+\/([^/]+)\/_history\/\d+$/.exec(location)?.[1];
  const patientId = idIn(response.entry![0].response!.location);
  const documentId = idIn(response.entry![1].response!.location)!;
  t.ok(patientId);
  const document = as<DocumentReference>(await client.read({ resourceType: 'DocumentReference', id: documentId }));
  t.equal(document.subject?.reference, `Patient/${patientId}`);
});

t.test('a batch answers each entry on its own', async (t) => {
  const response = as<Bundle>(
    await client.batch({
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: patient('Batch'), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: 'Patient/no-such-patient' } },
        ],
      },
    }),
  );
  t.equal(response.type, 'batch-response');
  t.same(response.entry?.map((e) => e.response?.status.slice(0, 3)), ['201', '404']);
});

t.test('conditional create (If-None-Exist) and conditional update through the client', async (t) => {
  const identifier = `kit-${Date.now()}`;
  const body = patient('Conditional', { identifier: [{ system: 'http://hospital.test/mrn', value: identifier }] });
  const ifNoneExist = { 'If-None-Exist': `identifier=http://hospital.test/mrn|${identifier}` };
  const first = as<Patient>(await client.create({ resourceType: 'Patient', body: fhir(body), options: { headers: ifNoneExist } }));
  t.equal(Client.httpFor(fhir(first)).response?.status, 201);
  const again = as<Patient>(await client.create({ resourceType: 'Patient', body: fhir(body), options: { headers: ifNoneExist } }));
  t.equal(Client.httpFor(fhir(again)).response?.status, 200, 'the existing match, nothing created');
  t.equal(again.id, first.id);

  const updated = as<Patient>(
    await client.update({
      resourceType: 'Patient',
      searchParams: { identifier: `http://hospital.test/mrn|${identifier}` },
      body: { ...body, gender: 'other' },
    }),
  );
  t.equal(updated.id, first.id);
  t.equal(updated.meta?.versionId, '2');
});

t.test('JSON Patch through client.patch', async (t) => {
  const created = as<Patient>(await client.create({ resourceType: 'Patient', body: patient('Patched') }));
  const patched = as<Patient>(
    await client.patch({ resourceType: 'Patient', id: created.id!, jsonPatch: [{ op: 'replace', path: '/gender', value: 'female' }] }),
  );
  t.equal(patched.gender, 'female');
  t.equal(patched.meta?.versionId, '2');
});

t.test('$validate through client.operation, and the CapabilityStatement', async (t) => {
  const report = as<OperationOutcome>(await client.operation({ name: 'validate', resourceType: 'Patient', input: { ...patient('Valid'), gender: 'nope' } }));
  t.equal(report.resourceType, 'OperationOutcome');
  t.ok(report.issue.some((i) => i.severity === 'error' && i.expression?.includes('Patient.gender')));

  const capabilities = await client.capabilityStatement();
  t.equal(capabilities.resourceType, 'CapabilityStatement');
  t.equal(capabilities.fhirVersion, '4.0.1');
});

t.test('with an issuer configured, the bearer token goes through the client options', async (t) => {
  const issuer = await testIssuer();
  const secured = await startListeningServer(t, { env: issuer.env });
  const token = await issuer.token({ sub: 'kit-service', client_id: 'kit-app', scope: 'system/*.cruds' }, { audience: secured.url });

  const authorized = new Client({ baseUrl: secured.url, bearerToken: token });
  const created = as<Patient>(await authorized.create({ resourceType: 'Patient', body: patient('Token') }));
  t.equal(as<Patient>(await authorized.read({ resourceType: 'Patient', id: created.id! })).id, created.id);

  const anonymous = new Client({ baseUrl: secured.url });
  const refused = await refusal(t, anonymous.read({ resourceType: 'Patient', id: created.id! }));
  t.equal(refused.status, 401);
  t.equal(as<OperationOutcome>(refused.data as FhirResource).issue[0].code, 'login');

  anonymous.bearerToken = token;
  t.equal(as<Patient>(await anonymous.read({ resourceType: 'Patient', id: created.id! })).id, created.id, 'a token set later is sent too');
});

t.test('smartAuthMetadata finds the authorize and token endpoints the server advertises', async (t) => {
  const issuer = await testIssuer();
  const env = { ...issuer.env, AUTH_AUTHORIZE_URL: 'https://auth.test/authorize', AUTH_TOKEN_URL: 'https://auth.test/token' };
  const secured = await startListeningServer(t, { env });
  // It races smart-configuration, the CapabilityStatement and openid-configuration: both of ours say the same.
  const metadata = await new Client({ baseUrl: secured.url }).smartAuthMetadata();
  t.equal(metadata.authorizeUrl?.href, 'https://auth.test/authorize');
  t.equal(metadata.tokenUrl?.href, 'https://auth.test/token');
});

t.test('compartment search, and resolve() of a reference from an _include bundle and from the server', async (t) => {
  const owner = as<Patient>(await client.create({ resourceType: 'Patient', body: patient('Compartment') }));
  const reference = `Patient/${owner.id}`;
  await client.create({
    resourceType: 'DocumentReference',
    body: { resourceType: 'DocumentReference', status: 'current', subject: { reference }, content: [{ attachment: { contentType: 'text/plain', data: 'aGk=' } }] },
  });
  const inCompartment = as<Bundle>(await client.compartmentSearch({ resourceType: 'DocumentReference', compartment: { resourceType: 'Patient', id: owner.id! } }));
  t.equal(inCompartment.entry?.length, 1);
  const document = inCompartment.entry![0].resource as DocumentReference;
  t.equal(document.subject?.reference, reference);

  const included = await client.search({ resourceType: 'DocumentReference', searchParams: { subject: reference, _include: 'DocumentReference:subject' } });
  const fromBundle = as<Patient>(await client.resolve({ reference: `${server.url}/${reference}`, context: included }));
  t.equal(fromBundle.id, owner.id, 'found by the fullUrl of the included entry');
  const fromServer = as<Patient>(await client.resolve({ reference }));
  t.equal(fromServer.id, owner.id);
});

t.test('type and system history through the client, paged with nextPage', async (t) => {
  const typeHistory = as<Bundle>(await client.typeHistory({ resourceType: 'Patient', options: {} }));
  t.equal(typeHistory.type, 'history');
  t.ok((typeHistory.entry?.length ?? 0) > 0);
  const systemHistory = as<Bundle>(await client.systemHistory());
  t.equal(systemHistory.type, 'history');
  const page = as<Bundle>(await client.request('Patient/_history?_count=2'));
  const next = client.nextPage({ bundle: fhir(page) as PaginationParams['bundle'] });
  t.ok(next, 'a next link');
  const second = as<Bundle>(await next!);
  const firstIds = page.entry!.map((e) => `${e.fullUrl}|${e.resource?.meta?.versionId}`);
  t.notOk(second.entry!.some((e) => firstIds.includes(`${e.fullUrl}|${e.resource?.meta?.versionId}`)), 'no version twice');
});
