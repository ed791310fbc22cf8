import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer, uniqueDbName } from '../helpers/server.js';
import { create, errors, fixture, summary, warnings } from '../helpers/validation.js';

const US_CORE_PATIENT = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';
const RECORDS_DOCREF = 'http://fhir.records.example.org/StructureDefinition/records-document-reference';

t.test('US Core Patient (shipped in profiles/)', async (t) => {
  const s = await startTestServer(t);
  const example = () => fixture('us-core-patient-example.json');

  t.test('accepts a conforming patient', async (t) => {
    const { status, issues } = await create(s, example());
    t.equal(status, 201);
    t.same(errors(issues), []);
  });

  t.test('rejects a patient without identifier (min tightened to 1)', async (t) => {
    const { identifier: _, ...patient } = example();
    const { status, issues } = await create(s, patient);
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error required Patient.identifier']);
  });

  t.test('the same patient without meta.profile is valid against the base definition', async (t) => {
    const { identifier: _, meta: __, ...patient } = example();
    t.equal((await create(s, patient)).status, 201);
  });

  t.test('rejects an identifier without system (nested min in the profile)', async (t) => {
    const patient = example();
    delete patient.identifier[0].system;
    const { status, issues } = await create(s, patient);
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error required Patient.identifier[0].system']);
  });

  t.test('slice cardinality: two birthsex extensions', async (t) => {
    const patient = example();
    patient.extension.push({ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'M' });
    const { status, issues } = await create(s, patient);
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.extension']);
  });

  t.test('an extension declared by the profile is checked against its own definition', async (t) => {
    const patient = example();
    patient.extension[0].extension = patient.extension[0].extension.filter((e: any) => e.url !== 'text');
    const { status, issues } = await create(s, patient);
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error required Patient.extension[0].extension']);
  });
});

t.test('records DocumentReference profile (a differential of our own)', async (t) => {
  const s = await startTestServer(t);
  const example = () => fixture('records-documentreference-example.json');

  t.test('accepts a conforming document', async (t) => {
    const { status, issues } = await create(s, example());
    t.equal(status, 201);
    t.same(errors(issues), []);
  });

  t.test('requires subject, type, date, author and the attachment content type', async (t) => {
    const doc = example();
    for (const key of ['subject', 'type', 'date', 'author']) delete doc[key];
    delete doc.content[0].attachment.contentType;
    const { status, issues } = await create(s, doc);
    t.equal(status, 422);
    t.same(summary(errors(issues)).sort(), [
      'error required DocumentReference.author',
      'error required DocumentReference.content[0].attachment.contentType',
      'error required DocumentReference.date',
      'error required DocumentReference.subject',
      'error required DocumentReference.type',
    ]);
  });

  t.test('identifier slicing by system: the accession slice is required once', async (t) => {
    const none = example();
    none.identifier = none.identifier.slice(1);
    t.same(summary(errors((await create(s, none)).issues)), ['error required DocumentReference.identifier']);
    const twice = example();
    twice.identifier.push({ system: 'http://records.example.org/accession', value: 'A-2' });
    t.same(summary(errors((await create(s, twice)).issues)), ['error structure DocumentReference.identifier']);
  });

  t.test('targetProfile narrowing: subject must be a Patient', async (t) => {
    const doc = example();
    doc.subject = { reference: 'Group/ward-3' };
    t.same(summary(errors((await create(s, doc)).issues)), ['error value DocumentReference.subject.reference']);
  });
});

t.test('unknown profiles: an error by default (as for HL7\'s validator and HAPI), a warning with REQUIRE_KNOWN_PROFILES=false', async (t) => {
  const patient = { resourceType: 'Patient', meta: { profile: ['http://example.org/StructureDefinition/nobody-knows'] } };
  const strict = await startTestServer(t);
  const refused = await create(strict, patient);
  t.equal(refused.status, 422);
  t.same(summary(errors(refused.issues)), ['error not-supported Patient.meta.profile[0]']);
  const lenient = await startTestServer(t, { env: { REQUIRE_KNOWN_PROFILES: 'false' } });
  const warned = await create(lenient, patient);
  t.equal(warned.status, 201);
  t.same(summary(warnings(warned.issues).filter((i) => i.code === 'not-supported')), ['warning not-supported Patient.meta.profile[0]']);
});

t.test('a profile required by configuration applies to every resource of the type', async (t) => {
  const s = await startTestServer(t, { env: { REQUIRED_PROFILES: `Patient=${US_CORE_PATIENT}` } });
  const { meta: _, ...unclaimed } = fixture('us-core-patient-example.json');
  t.equal((await create(s, unclaimed)).status, 201);
  const { status, issues } = await create(s, { resourceType: 'Patient', name: [{ family: 'Doe' }] });
  t.equal(status, 422);
  t.same(summary(errors(issues)).sort(), ['error required Patient.gender', 'error required Patient.identifier']);
  t.equal((await create(s, { resourceType: 'Consent', status: 'draft', scope: { text: 'x' }, category: [{ text: 'x' }], policyRule: { text: 'x' } })).status, 201, 'other types are not affected');
});

t.test('a profile stored through the API takes effect at once on every instance', async (t) => {
  const dbName = uniqueDbName();
  const a = await startTestServer(t, { dbName });
  const b = await startTestServer(t, { dbName });
  t.teardown(() => a.db.dropDatabase());
  const url = 'http://fhir.records.example.org/StructureDefinition/patient-with-birthdate';
  const claimed = { resourceType: 'Patient', meta: { profile: [url] }, name: [{ family: 'Doe' }] };

  // b learns the profile is unknown (and caches that) before it exists.
  const unknown = ['error not-supported Patient.meta.profile[0]'];
  t.same(summary(errors((await create(b, claimed)).issues)), unknown);

  const profile = {
    resourceType: 'StructureDefinition',
    id: 'patient-with-birthdate',
    url,
    name: 'PatientWithBirthDate',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 },
        { id: 'Patient.gender', path: 'Patient.gender', fixedCode: 'female' },
        { id: 'Patient.name', path: 'Patient.name', patternHumanName: { use: 'official' } },
      ],
    },
  };
  const stored = await a.request({ method: 'PUT', url: `/fhir/StructureDefinition/${profile.id}`, headers: FHIR_JSON_HEADERS, payload: profile });
  t.equal(stored.statusCode, 201);
  const read = await b.request({ method: 'GET', url: `/fhir/StructureDefinition/${profile.id}` });
  t.equal(read.statusCode, 200);

  const rejected = await create(b, { ...claimed, gender: 'male' });
  t.equal(rejected.status, 422);
  t.same(summary(errors(rejected.issues)), ['error value Patient.name[0]', 'error value Patient.gender', 'error required Patient.birthDate']);
  const accepted = await create(b, { ...claimed, gender: 'female', birthDate: '1990-01-01', name: [{ use: 'official', family: 'Doe' }] });
  t.equal(accepted.status, 201);

  // Deleting it makes it unknown again everywhere.
  t.equal((await b.request({ method: 'DELETE', url: `/fhir/StructureDefinition/${profile.id}` })).statusCode, 200);
  t.same(summary(errors((await create(a, claimed)).issues)), unknown);
});

t.test('a StructureDefinition that cannot be applied is refused', async (t) => {
  const s = await startTestServer(t);
  const { status, issues } = await create(s, {
    resourceType: 'StructureDefinition',
    url: 'http://example.org/StructureDefinition/broken',
    name: 'Broken',
    status: 'draft',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: { element: [{ id: 'Patient.nickname', path: 'Patient.nickname', min: 1 }] },
  });
  t.equal(status, 422);
  t.same(summary(errors(issues)), ['error processing StructureDefinition']);
});

t.test('pattern[x] and closed slicing of codings by system, in a stored profile', async (t) => {
  const s = await startTestServer(t);
  const url = 'http://fhir.records.example.org/StructureDefinition/privacy-consent';
  const stored = await create(s, {
    resourceType: 'StructureDefinition',
    url,
    name: 'PrivacyConsent',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Consent',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Consent',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Consent.category', path: 'Consent.category', patternCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '59284-0' }] } },
        { id: 'Consent.scope.coding', path: 'Consent.scope.coding', slicing: { discriminator: [{ type: 'pattern', path: 'system' }], rules: 'closed' } },
        {
          id: 'Consent.scope.coding:consentscope',
          path: 'Consent.scope.coding',
          sliceName: 'consentscope',
          min: 1,
          max: '1',
          patternCoding: { system: 'http://terminology.hl7.org/CodeSystem/consentscope' },
        },
      ],
    },
  });
  t.equal(stored.status, 201);
  const consent = { ...fixture('consent-example-notThis.json'), meta: { profile: [url] } };
  const accepted = await create(s, consent);
  t.same(errors(accepted.issues), []);

  const otherCategory = { ...consent, category: [{ coding: [{ system: 'http://loinc.org', code: '64292-6' }] }] };
  t.same(summary(errors((await create(s, otherCategory)).issues)), ['error value Consent.category[0]']);

  const foreignCoding = structuredClone(consent);
  foreignCoding.scope.coding.push({ system: 'http://example.org/scopes', code: 'x' });
  t.same(summary(errors((await create(s, foreignCoding)).issues)), ['error structure Consent.scope.coding[1]']);

  const noSlice = { ...consent, scope: { coding: [{ system: 'http://example.org/scopes', code: 'x' }] } };
  t.same(summary(errors((await create(s, noSlice)).issues)).sort(), [
    'error required Consent.scope.coding',
    'error structure Consent.scope.coding[0]',
  ]);
});
