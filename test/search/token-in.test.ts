import t from 'tap';
import { createAll, matchIds, searchBundle } from '../helpers/search.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const VS = 'http://hl7.org/fhir/ValueSet';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

const doc = (id: string, status: string, type?: object) => ({
  resourceType: 'DocumentReference', id, status, ...(type ? { type } : {}),
  content: [{ attachment: { contentType: 'text/plain' } }],
});

// AuditEvents are append-only: created by POST, so the server picks their ids.
const audit = (type: object) => ({
  resourceType: 'AuditEvent', type, recorded: '2024-01-01T10:00:00Z',
  agent: [{ requestor: true, who: { display: 'clerk' } }], source: { observer: { display: 'server' } },
});

/** The status and first OperationOutcome issue of a failing search. */
async function failedSearch(s: TestServer, url: string, headers: Record<string, string> = {}) {
  const r = await s.request({ method: 'GET', url: `/fhir/${url}`, headers });
  const body = s.json(r);
  return { status: r.statusCode, type: body.resourceType, ...(body.issue?.[0] as { code: string; diagnostics: string; expression?: string[] }) };
}

t.test(':in and :not-in on a code element (system implied by its required binding)', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Patient', id: 'f', gender: 'female' },
    { resourceType: 'Patient', id: 'm', gender: 'male' },
    { resourceType: 'Patient', id: 'none' },
  ]);
  t.same(await matchIds(s, `Patient?gender:in=${VS}/administrative-gender`), ['f', 'm'], 'every coded gender is in the set');
  t.same(await matchIds(s, `Patient?gender:not-in=${VS}/administrative-gender`), ['none'], ':not-in matches resources without a value, as :not does');
  t.same(await matchIds(s, `Patient?gender:in=${VS}/administrative-gender|4.0.1`), ['f', 'm'], 'a |version is ignored');
  t.same(await matchIds(s, `Patient?gender:in=${VS}/administrative-gender&gender=female`), ['f'], 'combines with other clauses');
  const strict = await s.request({ method: 'GET', url: `/fhir/Patient?gender:in=${VS}/administrative-gender`, headers: { prefer: 'handling=strict' } });
  t.equal(strict.statusCode, 200, ':in is supported under strict handling');
  const lenient = await searchBundle(s, `Patient?gender:not-in=${VS}/administrative-gender`);
  t.notOk(lenient.entry.some((e: any) => e.search.mode === 'outcome'), ':not-in is not reported as ignored');
});

t.test(':in on a code element matches only codes of the system the element implies', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [doc('cur', 'current'), doc('err', 'entered-in-error')]);
  t.same(await matchIds(s, `DocumentReference?status:in=${VS}/document-reference-status`), ['cur', 'err']);
  t.same(await matchIds(s, `DocumentReference?status:not-in=${VS}/document-reference-status`), []);
  t.same(await matchIds(s, `DocumentReference?status:in=${VS}/composition-status`), [],
    'composition-status also has entered-in-error, but in another system');
  t.same(await matchIds(s, `DocumentReference?status:not-in=${VS}/composition-status`), ['cur', 'err']);
  t.same(await matchIds(s, `DocumentReference?status:in=${VS}/composition-status,${VS}/document-reference-status`), ['cur', 'err'],
    'several ValueSets are one set');
});

t.test(':in and :not-in on Coding and CodeableConcept need the system and the code', async (t) => {
  const s = await startTestServer(t);
  const [dicom, rest, other] = await createAll(s, [
    audit({ system: DCM, code: '110110' }),
    audit({ system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' }),
    audit({ system: 'urn:example:events', code: '110110' }),
    doc('loinc', 'current', { coding: [{ system: 'http://loinc.org', code: '18842-5' }] }),
    doc('local', 'current', { coding: [{ system: 'urn:example:types', code: '18842-5' }] }),
    doc('untyped', 'current'),
  ]);
  // The server's own AuditEvents of these requests (type rest) are in the set too: look at these three.
  const ours = async (url: string) => (await matchIds(s, `${url}&_count=1000`)).filter((id) => [dicom, rest, other].includes(id));
  t.same(await ours(`AuditEvent?type:in=${VS}/audit-event-type`), [dicom, rest].sort());
  t.same(await ours(`AuditEvent?type:not-in=${VS}/audit-event-type`), [other], 'the same code in another system is not in the set');
  t.same(await matchIds(s, `DocumentReference?type:in=${VS}/c80-doc-typecodes`), ['loinc'], 'a 6,401-code expansion');
  t.same(await matchIds(s, `DocumentReference?type:not-in=${VS}/c80-doc-typecodes`), ['local', 'untyped']);
});

t.test('a ValueSet that cannot be expanded is a 400 naming the parameter and the URL', async (t) => {
  const s = await startTestServer(t);
  for (const url of ['http://example.org/ValueSet/unknown', `${VS}/consent-category`, '{"$ne":null}']) {
    for (const headers of [{}, { prefer: 'handling=strict' }] as Record<string, string>[]) {
      const problem = await failedSearch(s, `Consent?category:in=${encodeURIComponent(url)}`, headers);
      t.match(problem, { status: 400, type: 'OperationOutcome', code: 'not-supported' });
      t.ok(problem.diagnostics.includes(url), 'names the URL');
      t.same(problem.expression, ['category:in'], 'names the parameter');
    }
  }
  const notIn = await failedSearch(s, 'Patient?gender:not-in=http://example.org/ValueSet/unknown');
  t.match(notIn, { status: 400, expression: ['gender:not-in'] });
});

t.test('more than 10,000 codes is too costly', async (t) => {
  const s = await startTestServer(t);
  const sets = ['c80-doc-typecodes', 'animal-breeds', 'ucum-common'].map((name) => `${VS}/${name}`).join(',');
  const problem = await failedSearch(s, `DocumentReference?type:in=${sets}`);
  t.match(problem, { status: 400, code: 'too-costly', expression: ['type:in'] });
  t.match(problem.diagnostics, /10128 codes/);
});
