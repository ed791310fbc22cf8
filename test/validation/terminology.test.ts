import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, fixture, summary, warnings } from '../helpers/validation.js';

const MARITAL = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
const married = (display: string) => ({ resourceType: 'Patient', maritalStatus: { coding: [{ system: MARITAL, code: 'M', display }] } });
const about = (issues: any[], code: string) => summary(issues.filter((i) => i.code === code));

t.test('terminology checked offline', async (t) => {
  const s = await startTestServer(t);

  t.test('a coding\'s display must be one its code system gives: a warning by default', async (t) => {
    const wrong = await create(s, married('Wed'));
    t.equal(wrong.status, 201);
    t.same(about(warnings(wrong.issues), 'invalid'), ['warning invalid Patient.maritalStatus.coding[0].display']);
    t.match(warnings(wrong.issues).find((i) => i.code === 'invalid')?.diagnostics, /"Wed" is not the one .*\|M has: "Married"/);
    t.same(about((await create(s, married('Married'))).issues, 'invalid'), []);
    t.same(about((await create(s, married('married'))).issues, 'invalid'), ['warning invalid Patient.maritalStatus.coding[0].display'], 'case counts, as for HL7\'s validator');
    // Codings without a binding are checked too (meta.tag), and unknown systems are not.
    const tag = await create(s, { resourceType: 'Patient', meta: { tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST', display: 'not it' }] } });
    t.same(about(tag.issues, 'invalid'), ['warning invalid Patient.meta.tag[0].display']);
    const loinc = await create(s, { resourceType: 'Patient', meta: { tag: [{ system: 'http://loinc.org', code: '1-8', display: 'anything' }] } });
    t.same(about(loinc.issues, 'invalid'), []);
  });

  t.test('a code not in its code system, when that ships complete, is an error whatever the binding (HL7: "Unknown code")', async (t) => {
    const q = await create(s, { resourceType: 'Patient', maritalStatus: { coding: [{ system: MARITAL, code: 'Q' }] } });
    t.equal(q.status, 422);
    t.same(about(errors(q.issues), 'code-invalid').filter((line) => line.endsWith('.code')), ['error code-invalid Patient.maritalStatus.coding[0].code']);
    t.match(errors(q.issues).find((i) => i.expression?.[0]?.endsWith('.code'))?.diagnostics, `"Q" is not a code of ${MARITAL}`);
    // A Coding with no binding at all (meta.tag), and one under an extensible binding (AuditEvent.type).
    const tag = (system: string, code: string) => create(s, { resourceType: 'Patient', meta: { tag: [{ system, code }] } });
    t.same(summary(errors((await tag('http://terminology.hl7.org/CodeSystem/v3-ActReason', 'NOPE')).issues)), ['error code-invalid Patient.meta.tag[0].code']);
    t.equal((await tag('http://terminology.hl7.org/CodeSystem/v3-ActReason', 'HTEST')).status, 201);
    const audit = fixture('audit-event-example-login.json');
    audit.type.code = 'nonsense';
    t.same(summary(errors((await create(s, audit)).issues)), ['error code-invalid AuditEvent.type.code']);
    const validated = await s.request({ method: 'POST', url: '/fhir/AuditEvent/$validate', headers: FHIR_JSON_HEADERS, payload: audit });
    t.equal(validated.statusCode, 200);
    t.same(summary(errors(s.json(validated).issue)), ['error code-invalid AuditEvent.type.code'], '$validate reports it too');
  });

  t.test('case counts only for code systems that say they are case-sensitive', async (t) => {
    const tag = (system: string, code: string) => create(s, { resourceType: 'Patient', meta: { tag: [{ system, code }] } });
    t.equal((await tag('http://terminology.hl7.org/CodeSystem/v3-ActReason', 'htest')).status, 422, 'v3 is case-sensitive');
    // v2 tables do not say: a code in another case is theirs.
    t.equal((await tag('http://terminology.hl7.org/CodeSystem/v2-0203', 'mr')).status, 201);
    t.equal((await tag('http://terminology.hl7.org/CodeSystem/v2-0203', 'MRX')).status, 422);
  });

  t.test('code systems not shipped complete (not shipped, fragments, examples) accept any code', async (t) => {
    for (const system of ['http://loinc.org', 'http://snomed.info/sct', 'http://terminology.hl7.org/CodeSystem/insurance-plan-type', 'http://terminology.hl7.org/CodeSystem/program']) {
      const { status } = await create(s, { resourceType: 'Patient', meta: { tag: [{ system, code: 'not-a-code-anywhere' }] } });
      t.equal(status, 201, system);
    }
  });

  t.test('Resource.language and Attachment.language are BCP-47 tags', async (t) => {
    const bad = await create(s, { resourceType: 'Patient', language: 'en_US', photo: [{ language: 'english-', url: 'Binary/1' }] });
    t.equal(bad.status, 422);
    t.same(summary(errors(bad.issues)), ['error code-invalid Patient.language', 'error code-invalid Patient.photo[0].language']);
    for (const language of ['en', 'en-US', 'zh-Hant-TW', 'de-CH-1996', 'x-private']) {
      t.equal((await create(s, { resourceType: 'Patient', language })).status, 201, language);
    }
  });

  t.test('a Coding of urn:ietf:bcp:47 holds a well-formed tag (communication.language)', async (t) => {
    const communication = (code: string) => ({ resourceType: 'Patient', communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code }] } }] });
    const bad = await create(s, communication('e n'));
    t.equal(bad.status, 422);
    t.same(summary(errors(bad.issues)), ['error code-invalid Patient.communication[0].language.coding[0].code']);
    t.equal((await create(s, communication('fr-CA'))).status, 201);
  });

  t.test('Attachment.contentType is a media type (BCP-13)', async (t) => {
    const photo = (contentType: string) => ({ resourceType: 'Patient', photo: [{ contentType, url: 'Binary/1' }] });
    for (const contentType of ['imagepng', 'image/', 'text/plain;charset', 'a b/c']) {
      const bad = await create(s, photo(contentType));
      t.equal(bad.status, 422, contentType);
      t.same(summary(errors(bad.issues)), ['error code-invalid Patient.photo[0].contentType'], contentType);
    }
    for (const contentType of ['image/png', 'text/plain; charset=utf-8', 'application/fhir+json']) {
      t.equal((await create(s, photo(contentType))).status, 201, contentType);
    }
  });

  t.test('$validate reports the same', async (t) => {
    const response = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: { ...married('Wed'), language: 'en_US' } });
    t.equal(response.statusCode, 200);
    t.same(summary(s.json(response).issue.filter((i: any) => i.code !== 'invariant')).sort(), [
      'error code-invalid Patient.language',
      'warning invalid Patient.maritalStatus.coding[0].display',
    ]);
  });

  t.test('US Core ValueSets shipped in profiles/: birth sex and OMB race categories', async (t) => {
    const usCore = () => fixture('us-core-patient-example.json');
    const valid = await create(s, usCore());
    t.equal(valid.status, 201);

    const birthSex = usCore();
    birthSex.extension.find((e: any) => e.url.endsWith('us-core-birthsex')).valueCode = 'X';
    const wrongSex = await create(s, birthSex);
    t.equal(wrongSex.status, 422);
    t.match(errors(wrongSex.issues).map((i) => i.diagnostics).join('\n'), /"X" is not a code of the value set http:\/\/hl7.org\/fhir\/us\/core\/ValueSet\/birthsex/);

    const race = usCore();
    race.extension.find((e: any) => e.url.endsWith('us-core-race')).extension[0].valueCoding = { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2108-9' };
    const wrongRace = await create(s, race);
    t.equal(wrongRace.status, 422);
    t.match(errors(wrongRace.issues).map((i) => i.diagnostics).join('\n'), /ValueSet\/omb-race-category/);
  });
});

t.test('DISPLAY_MISMATCH=error makes a wrong display an error', async (t) => {
  const s = await startTestServer(t, { env: { DISPLAY_MISMATCH: 'error' } });
  const wrong = await create(s, married('Wed'));
  t.equal(wrong.status, 422);
  t.same(summary(errors(wrong.issues)), ['error invalid Patient.maritalStatus.coding[0].display']);
  t.equal((await create(s, married('Married'))).status, 201);
});
