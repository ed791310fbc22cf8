/**
 * A second, independent reader of everything the server answers: each kind of response is
 * fetched over real HTTP, saved, and parsed by HAPI FHIR's R4 JSON parser with its strict
 * error handler (test/clients/hapi-parse, one JVM for all files). An element R4 does not know,
 * a value of the wrong JSON type or an invalid primitive is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { patient } from '../helpers/fhir.js';
import { startListeningServer } from '../helpers/listening.js';
import { testIssuer } from '../helpers/tokens.js';

const PARSER = join(import.meta.dirname, 'hapi-parse', 'target');
const BUILD = 'mvn -q -B -f test/clients/hapi-parse/pom.xml package';

if (!existsSync(join(PARSER, 'classpath.txt'))) {
  // CI builds it in .ci/run: there a missing parser is a failure, never a skip.
  if (process.env.CI) t.fail(`the HAPI parser is not built (${BUILD})`);
  else t.plan(0, `the HAPI parser is not built: run \`${BUILD}\` (Java 17 and Maven) to include this test`);
} else {
  t.test('every kind of response the server sends parses with HAPI\'s strict R4 parser', run);
}

async function run(t: Test) {
  const folder = mkdtempSync(join(tmpdir(), 'fhir-responses-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const saved = new Set<string>();

  const issuer = await testIssuer();
  const open = await startListeningServer(t);
  const secured = await startListeningServer(t, { env: issuer.env });

  /** Sends a request, checks the status, saves the body as NAME.json; returns the parsed body. */
  async function save(name: string, status: number, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; base?: string } = {}) {
    const headers: Record<string, string> = { accept: 'application/fhir+json', ...init.headers };
    if (init.body !== undefined) headers['content-type'] ??= 'application/fhir+json';
    const response = await fetch(`${init.base ?? open.url}/${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    });
    const text = await response.text();
    t.equal(response.status, status, response.status === status ? `${name} answers ${status}` : `${name}: ${text.slice(0, 300)}`);
    writeFileSync(join(folder, `${name}.json`), text);
    saved.add(name);
    return JSON.parse(text);
  }

  const fixture = (file: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', file), 'utf8'));

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

  // Search sets: paged, included, counted, summarised, and the server's own AuditEvents.
  const firstPage = await save('search-page-1', 200, 'Patient?family=StrictPager&_count=2&_total=accurate');
  const next = (firstPage.link as { relation: string; url: string }[]).find((l) => l.relation === 'next')!.url;
  await save('search-page-2', 200, next.slice(open.url.length + 1));
  await save('search-include', 200, 'DocumentReference?_include=DocumentReference:subject&_revinclude=Consent:patient');
  await save('search-summary-count', 200, 'Patient?_summary=count');
  await save('search-elements', 200, 'Patient?_elements=name,gender&_count=3');
  await save('search-post', 200, 'Patient/_search', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'family=Strict',
  });
  await save('search-audit-events', 200, 'AuditEvent?_count=5&_sort=-_lastUpdated');
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

  // Controls: what the strict parser must refuse, so a pass above means something.
  const controls = {
    'control-unknown-element': { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', nickname: 'Pete' } }] },
    'control-invalid-date': { resourceType: 'Patient', birthDate: '1974-13-45' },
    'control-wrong-json-type': { resourceType: 'OperationOutcome', issue: { severity: 'error', code: 'invalid' } },
    'control-unknown-code': { resourceType: 'Bundle', type: 'search-result' },
  };
  for (const [name, body] of Object.entries(controls)) writeFileSync(join(folder, `${name}.json`), JSON.stringify(body));

  const classpath = `${join(PARSER, 'classes')}:${readFileSync(join(PARSER, 'classpath.txt'), 'utf8').trim()}`;
  const result = await promisify(execFile)('java', ['-cp', classpath, 'parsecheck.ParseAll', folder]).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
    if (error.stdout === undefined) throw error;
    return { stdout: error.stdout, stderr: error.stderr ?? '' };
  });
  const lines = new Map(result.stdout.split('\n').filter(Boolean).map((line) => {
    const [verdict, file, ...rest] = line.split(' ');
    return [file.replace(/\.json$/, ''), { verdict, detail: rest.join(' ') }] as const;
  }));
  t.equal(lines.size, saved.size + Object.keys(controls).length, `the parser read every file ${result.stderr}`);
  for (const name of Object.keys(controls)) t.equal(lines.get(name)?.verdict, 'error', `${name} is refused: ${lines.get(name)?.detail}`);
  for (const name of saved) {
    const line = lines.get(name);
    t.equal(line?.verdict, 'ok', `${name} parses strictly as R4${line?.verdict === 'error' ? `: ${line.detail}` : ''}`);
  }
}
