/**
 * One of each kind of response the server sends, fetched over real HTTP from two servers (one
 * open, one that verifies tokens), for the tests that hand every body to an independent reader
 * (test/clients/strict-parse.test.ts: HAPI's strict parser; test/clients/hl7-validator.test.ts:
 * HL7's validator). Each request's status is checked as it is made.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { patient } from './fhir.js';
import { startListeningServer } from './listening.js';
import { testIssuer } from './tokens.js';

export interface CollectedResponse {
  /** What the response is, as a file name would say it (`error-404-unknown-id`). */
  name: string;
  status: number;
  /** The body exactly as it came over the wire. */
  body: string;
}

interface RequestInit {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  base?: string;
}

const fixture = (file: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', file), 'utf8'));

export async function collectResponses(t: Test): Promise<CollectedResponse[]> {
  const collected: CollectedResponse[] = [];
  const issuer = await testIssuer();
  // One transaction attempt, so that a transaction meeting a write conflict answers 409 at once.
  const open = await startListeningServer(t, { env: { TRANSACTION_MAX_ATTEMPTS: '1' } });
  const secured = await startListeningServer(t, { env: issuer.env });

  /** Sends a request, checks the status, keeps the body under NAME; returns the parsed body. */
  async function save(name: string, status: number, path: string, init: RequestInit = {}) {
    const headers: Record<string, string> = { accept: 'application/fhir+json', ...init.headers };
    if (init.body !== undefined) headers['content-type'] ??= 'application/fhir+json';
    const response = await fetch(`${init.base ?? open.url}/${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    });
    const body = await response.text();
    t.equal(response.status, status, response.status === status ? `${name} answers ${status}` : `${name}: ${body.slice(0, 300)}`);
    collected.push({ name, status: response.status, body });
    return JSON.parse(body);
  }

  // Resources as written and read back, including the richer fixtures.
  const created = await save('create-patient', 201, 'Patient', { method: 'POST', body: patient('Strict', { identifier: [{ system: 'http://hospital.test/mrn', value: 'strict-1' }] }) });
  const id = created.id as string;
  for (const file of ['patient-example.json', 'documentreference-example.json', 'consent-example-Out.json', 'audit-event-example-rest.json']) {
    const resource = fixture(file);
    const isAudit = resource.resourceType === 'AuditEvent';
    const written = await save(`write-${file.replace('.json', '')}`, 201, isAudit ? 'AuditEvent' : `${resource.resourceType}/${resource.id}`, {
      method: isAudit ? 'POST' : 'PUT',
      body: resource,
    });
    await save(`read-${file.replace('.json', '')}`, 200, `${written.resourceType}/${written.id}`);
  }
  const document = { resourceType: 'DocumentReference', status: 'current', subject: { reference: 'Patient/example' }, content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }] };
  await save('create-document-of-example', 201, 'DocumentReference', { method: 'POST', body: document });
  await save('update-patient', 200, `Patient/${id}`, { method: 'PUT', body: { ...created, gender: 'female' } });
  await save('vread-patient', 200, `Patient/${id}/_history/1`);
  await save('patch-patient', 200, `Patient/${id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json-patch+json' },
    body: [{ op: 'replace', path: '/gender', value: 'other' }],
  });
  await save('conditional-create-existing', 200, 'Patient', {
    method: 'POST',
    headers: { 'if-none-exist': 'identifier=http://hospital.test/mrn|strict-1' },
    body: patient('Strict'),
  });
  await save('create-prefer-outcome', 201, 'Patient', { method: 'POST', headers: { prefer: 'return=OperationOutcome' }, body: patient('Outcome') });
  await save('read-summary', 200, `Patient/${id}?_summary=true`);
  for (let i = 0; i < 4; i++) await save(`create-pager-${i}`, 201, 'Patient', { method: 'POST', body: patient('StrictPager') });

  // Search sets: paged, included (mode include), counted, summarised, with a warning (mode outcome).
  const firstPage = await save('search-page-1', 200, 'Patient?family=StrictPager&_count=2&_total=accurate');
  const next = (firstPage.link as { relation: string; url: string }[]).find((l) => l.relation === 'next')!.url;
  await save('search-page-2', 200, next.slice(open.url.length + 1));
  const modes = (bundle: { entry?: { search: { mode: string } }[] }) => [...new Set(bundle.entry?.map((e) => e.search.mode))].sort();
  const included = await save('search-include', 200, 'DocumentReference?subject=Patient/example&_include=DocumentReference:subject');
  t.same(modes(included), ['include', 'match'], '_include adds entries of mode include');
  const revIncluded = await save('search-revinclude', 200, 'Patient?_id=example&_revinclude=DocumentReference:subject&_revinclude=Consent:patient');
  t.same(modes(revIncluded), ['include', 'match'], '_revinclude adds entries of mode include');
  await save('search-summary-count', 200, 'Patient?_summary=count');
  await save('search-elements', 200, 'Patient?_elements=name,gender&_count=3');
  await save('search-post', 200, 'Patient/_search', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'family=Strict',
  });
  await save('search-system', 200, '?_type=Patient,Consent&_count=3');
  await save('search-compartment', 200, 'Patient/example/DocumentReference');
  await save('conditional-update', 200, 'Patient?identifier=http://hospital.test/mrn|strict-1', { method: 'PUT', body: { ...patient('Strict'), identifier: created.identifier } });
  await save('conditional-delete', 200, 'Patient?family=Outcome', { method: 'DELETE' });
  await save('reindex', 200, 'Patient/$reindex', { method: 'POST' });

  // History, with a delete among the versions.
  await save('delete-patient', 200, `Patient/${id}`, { method: 'DELETE' });
  await save('history-instance', 200, `Patient/${id}/_history`);
  await save('history-type', 200, 'Patient/_history?_count=3');
  await save('history-system', 200, '_history?_count=5');

  // Bundles.
  const urn = 'urn:uuid:6a3e9c2b-0d4f-4b8e-a1c7-5f2e8d9b0c11';
  const transaction = (entries: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  const patientEntry = { fullUrl: urn, resource: patient('Bundled'), request: { method: 'POST', url: 'Patient' } };
  const documentEntry = {
    resource: { resourceType: 'DocumentReference', status: 'current', subject: { reference: urn }, content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }] },
    request: { method: 'POST', url: 'DocumentReference' },
  };
  await save('transaction-response', 200, '', { method: 'POST', body: transaction([patientEntry, documentEntry]) });
  await save('transaction-response-minimal', 200, '', { method: 'POST', headers: { prefer: 'return=minimal' }, body: transaction([{ ...patientEntry, fullUrl: undefined }]) });
  await save('transaction-response-outcome', 200, '', { method: 'POST', headers: { prefer: 'return=OperationOutcome' }, body: transaction([{ ...patientEntry, fullUrl: undefined }]) });
  await save('batch-response', 200, '', {
    method: 'POST',
    body: {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient('Batched'), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient?family=StrictPager' } },
        { request: { method: 'GET', url: 'Patient/no-such-patient' } },
        { resource: { resourceType: 'Patient', gender: 'sometimes' }, request: { method: 'POST', url: 'Patient' } },
      ],
    },
  });
  await save('transaction-failed-422', 422, '', { method: 'POST', body: transaction([{ resource: { resourceType: 'Patient', gender: 'sometimes' }, request: { method: 'POST', url: 'Patient' } }]) });

  // OperationOutcomes of each kind of error.
  await save('error-400-malformed-json', 400, 'Patient', { method: 'POST', body: '{"resourceType": "Patient",' });
  await save('search-unknown-parameter-lenient', 200, 'Patient?no-such-parameter=1&_count=2');
  await save('error-400-unknown-search-parameter', 400, 'Patient?no-such-parameter=1', { headers: { prefer: 'handling=strict' } });
  await save('error-400-wrong-type', 400, 'Patient', { method: 'POST', body: { resourceType: 'Consent' } });
  await save('error-404-unknown-id', 404, 'Patient/no-such-patient');
  await save('error-404-unknown-type', 404, 'NoSuchType/1');
  await save('error-405-audit-update', 405, `AuditEvent/x`, { method: 'PUT', body: { resourceType: 'AuditEvent', id: 'x' } });
  await save('error-410-deleted', 410, `Patient/${id}`);
  const live = await save('create-for-412', 201, 'Patient', { method: 'POST', body: patient('Versioned') });
  await save('error-412-stale-if-match', 412, `Patient/${live.id}`, { method: 'PUT', headers: { 'if-match': 'W/"7"' }, body: live });
  await save('error-412-conditional-many', 412, 'Patient', { method: 'POST', headers: { 'if-none-exist': 'family=StrictPager' }, body: patient('StrictPager') });
  await save('error-406-xml', 406, 'Patient', { headers: { accept: 'application/fhir+xml' } });
  await save('error-415-not-json', 415, 'Patient', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  await save('error-422-invalid', 422, 'Patient', { method: 'POST', body: { resourceType: 'Patient', gender: 'sometimes', birthDate: '1974-13-45' } });
  await save('error-501-unsupported-operation', 501, `Patient/${live.id}/$everything`);
  await conflictingTransaction(live.id as string);
  await save('error-401-no-token', 401, 'Patient', { base: secured.url });
  const readOnly = await issuer.token({ sub: 'reader', client_id: 'reader-app', scope: 'system/Patient.rs' }, { audience: secured.url });
  await save('error-403-scope', 403, 'Patient', { base: secured.url, method: 'POST', headers: { authorization: `Bearer ${readOnly}` }, body: patient('Nope') });

  // The CapabilityStatement and $validate reports.
  await save('capability-statement', 200, 'metadata');
  await save('validate-valid', 200, 'Patient/$validate', { method: 'POST', body: patient('Valid') });
  await save('validate-invalid', 200, 'Patient/$validate', {
    method: 'POST',
    body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'sometimes' } }] },
  });

  // The AuditEvents the server wrote itself, read back: of the open server's requests above
  // (reads, searches, writes, errors), and of a user who broke the glass (user agent, purposes of use).
  const serverEvents = 'AuditEvent?type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest&_sort=-date';
  const ownEvents = await save('search-server-audit-events', 200, `${serverEvents}&_count=100`);
  t.ok((ownEvents.entry as unknown[]).length >= 50, 'the open server recorded an AuditEvent per request');
  const clinician = await issuer.token(
    { sub: 'dr-who', client_id: 'ward-app', fhirUser: 'Practitioner/dr-who', scope: 'user/Patient.rs', purpose_of_use: 'TREAT BTG' },
    { audience: secured.url },
  );
  await save('error-404-secured-read', 404, 'Patient/nobody', { base: secured.url, headers: { authorization: `Bearer ${clinician}` } });
  await save('search-secured', 200, 'Patient?family=Nobody', { base: secured.url, headers: { authorization: `Bearer ${clinician}` } });
  const auditor = await issuer.token({ sub: 'auditor', client_id: 'audit-app', scope: 'system/AuditEvent.rs' }, { audience: secured.url });
  await save('search-secured-audit-events', 200, `${serverEvents}&_count=20`, { base: secured.url, headers: { authorization: `Bearer ${auditor}` } });

  return collected;

  /**
   * 409: a transaction whose write meets another transaction's uncommitted change of the same
   * Patient (the test holds one open on the server's database) fails its only attempt.
   */
  async function conflictingTransaction(patientId: string) {
    const session = open.client.startSession();
    try {
      session.startTransaction();
      await open.db.collection<{ _id: string }>('Patient').updateOne({ _id: patientId }, { $set: { heldByTest: true } }, { session });
      const current = await (await fetch(`${open.url}/Patient/${patientId}`)).json();
      await save('error-409-transaction-conflict', 409, '', {
        method: 'POST',
        body: transaction([{ resource: { ...current, gender: 'female' }, request: { method: 'PUT', url: `Patient/${patientId}` } }]),
      });
    } finally {
      await session.abortTransaction().catch(() => {});
      await session.endSession();
    }
  }
}
