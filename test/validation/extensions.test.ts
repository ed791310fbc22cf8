import { readFileSync } from 'node:fs';
import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, fixture, summary, warnings } from '../helpers/validation.js';

const UNKNOWN = 'http://example.org/fhir/StructureDefinition/favourite-colour';
const withUnknown = () => ({ resourceType: 'Patient', extension: [{ url: UNKNOWN, valueString: 'green' }] });
/** An HL7 R4 extension: known without any profile. */
const withKnown = () => ({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Lyon' } }] });
const about = (issues: any[]) => summary(issues.filter((i) => i.code === 'extension'));

t.test('unknown extensions are accepted by default (as HAPI\'s validating interceptor does)', async (t) => {
  const s = await startTestServer(t);
  const { status, issues } = await create(s, withUnknown());
  t.equal(status, 201);
  t.same(about(issues), []);
  // Its content is still checked as an Extension.
  const malformed = await create(s, { resourceType: 'Patient', extension: [{ url: UNKNOWN, valueString: 'green', extension: [{ url: 'a', valueString: 'b' }] }] });
  t.equal(malformed.status, 422);
});

t.test('UNKNOWN_EXTENSIONS=warn reports them as warnings', async (t) => {
  const s = await startTestServer(t, { env: { UNKNOWN_EXTENSIONS: 'warn' } });
  const { status, issues } = await create(s, withUnknown());
  t.equal(status, 201);
  t.same(about(warnings(issues)), ['warning extension Patient.extension[0]']);
  t.same(about((await create(s, withKnown())).issues), []);
});

t.test('UNKNOWN_EXTENSIONS=reject refuses them, also nested ones, and knows extensions defined through the API', async (t) => {
  const s = await startTestServer(t, { env: { UNKNOWN_EXTENSIONS: 'reject' } });
  const refused = await create(s, withUnknown());
  t.equal(refused.status, 422);
  t.same(summary(errors(refused.issues)), ['error extension Patient.extension[0]']);
  t.match(errors(refused.issues)[0].diagnostics, /favourite-colour is not known to this server/);

  const nested = await create(s, { resourceType: 'Patient', name: [{ family: 'Doe', _family: { extension: [{ url: UNKNOWN, valueString: 'x' }] } }] });
  t.same(summary(errors(nested.issues)), ['error extension Patient.name[0].family.extension[0]']);

  const validate = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: withUnknown() });
  t.same(summary(s.json(validate).issue.filter((i: any) => i.severity === 'error')), ['error extension Patient.extension[0]']);

  t.equal((await create(s, withKnown())).status, 201, 'HL7\'s R4 extensions are known');
  const usCore = await create(s, fixture('us-core-patient-example.json'));
  t.equal(usCore.status, 201, 'the parts of a known complex extension (us-core-race\'s ombCategory) are not unknown extensions');
  const unknownComplex = await create(s, { resourceType: 'Patient', extension: [{ url: UNKNOWN, extension: [{ url: 'part', valueString: 'x' }] }] });
  t.same(summary(errors(unknownComplex.issues)), ['error extension Patient.extension[0]'], 'an unknown complex extension is reported once');

  const definition = {
    resourceType: 'StructureDefinition',
    id: 'favourite-colour',
    url: UNKNOWN,
    name: 'FavouriteColour',
    status: 'active',
    kind: 'complex-type',
    abstract: false,
    context: [{ type: 'element', expression: 'Patient' }],
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Extension.url', path: 'Extension.url', fixedUri: UNKNOWN },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'string' }] },
      ],
    },
  };
  const stored = await s.request({ method: 'PUT', url: '/fhir/StructureDefinition/favourite-colour', headers: FHIR_JSON_HEADERS, payload: definition });
  t.equal(stored.statusCode, 201);
  t.equal((await create(s, withUnknown())).status, 201, 'defined now');
  const wrongType = await create(s, { resourceType: 'Patient', extension: [{ url: UNKNOWN, valueBoolean: true }] });
  t.equal(wrongType.status, 422, 'and checked against its definition');
});

t.test('a known extension is used where its definition\'s context allows', async (t) => {
  const s = await startTestServer(t);
  const birthTime = (valueDateTime = '1980-01-01T10:00:00Z') => ({ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime });
  const geolocation = { url: 'http://hl7.org/fhir/StructureDefinition/geolocation', extension: [{ url: 'latitude', valueDecimal: 45.7 }, { url: 'longitude', valueDecimal: 4.8 }] };
  const ownPrefix = { url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix', valueString: 'van' };

  // patient-birthTime: context Patient.birthDate (an element path).
  const onPatient = await create(s, { resourceType: 'Patient', extension: [birthTime()] });
  t.equal(onPatient.status, 422);
  t.same(summary(errors(onPatient.issues)), ['error structure Patient.extension[0]']);
  t.match(errors(onPatient.issues)[0].diagnostics, /patient-birthTime is not allowed here \(on Patient\); its definition allows it on Patient\.birthDate/);
  t.equal((await create(s, { resourceType: 'Patient', birthDate: '1980-01-01', _birthDate: { extension: [birthTime()] } })).status, 201);

  // geolocation: context Address (a data type), wherever the Address is.
  t.equal((await create(s, { resourceType: 'Patient', address: [{ city: 'Lyon', extension: [geolocation] }] })).status, 201);
  t.equal((await create(s, { resourceType: 'Patient', contact: [{ address: { city: 'Lyon', extension: [geolocation] } }] })).status, 201);
  const geoOnPatient = await create(s, { resourceType: 'Patient', extension: [geolocation] });
  t.same(summary(errors(geoOnPatient.issues)), ['error structure Patient.extension[0]']);

  // humanname-own-prefix: context HumanName.family, an element of a data type, in any HumanName.
  const name = { family: 'van Doe', _family: { extension: [ownPrefix] } };
  t.equal((await create(s, { resourceType: 'Patient', name: [name] })).status, 201);
  t.equal((await create(s, { resourceType: 'Patient', contact: [{ name }] })).status, 201);
  const onGiven = await create(s, { resourceType: 'Patient', name: [{ given: ['Jan'], _given: [{ extension: [ownPrefix] }] }] });
  t.same(summary(errors(onGiven.issues)), ['error structure Patient.name[0].given[0].extension[0]']);

  // Contexts that are wildcards (Element, Resource): anywhere, and on any resource.
  const narrativeLink = { url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUrl: '#a' };
  t.equal((await create(s, { resourceType: 'Patient', gender: 'male', _gender: { extension: [narrativeLink] } })).status, 201);
  t.equal((await create(s, { resourceType: 'Patient', extension: [narrativeLink] })).status, 201, 'Element includes a resource\'s root');
  const workflow = { url: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal', valueReference: { reference: 'Goal/g1' } };
  t.equal((await create(s, { resourceType: 'Patient', extension: [workflow] })).status, 201);
  const onElement = await create(s, { resourceType: 'Patient', name: [{ family: 'Doe', extension: [workflow] }] });
  t.equal(onElement.status, 422, 'a Resource context is the resource, not its elements');

  // A contained resource is a resource of its own: its paths start again.
  const contained = await create(s, { resourceType: 'Organization', name: 'x', contained: [{ resourceType: 'Patient', id: 'p', birthDate: '1980-01-01', _birthDate: { extension: [birthTime()] } }] });
  t.same(summary(errors(contained.issues)).filter((l) => l.startsWith('error structure')), []);
});

t.test('a top-level extension has an absolute url; only the parts of a complex extension are relative', async (t) => {
  const s = await startTestServer(t);
  const relative = await create(s, { resourceType: 'Patient', extension: [{ url: 'birthPlace', valueString: 'Genova' }] });
  t.equal(relative.status, 422);
  t.same(summary(errors(relative.issues)), ['error value Patient.extension[0].url']);
  t.match(errors(relative.issues)[0].diagnostics, /must be absolute, not "birthPlace"/);
  const onPrimitive = await create(s, { resourceType: 'Patient', birthDate: '1980-01-01', _birthDate: { extension: [{ url: 'note', valueString: 'x' }] } });
  t.same(summary(errors(onPrimitive.issues)), ['error value Patient.birthDate.extension[0].url']);
  const complex = { url: 'http://example.org/fhir/StructureDefinition/complex', extension: [{ url: 'part', valueString: 'x' }] };
  t.equal((await create(s, { resourceType: 'Patient', extension: [complex] })).status, 201);
});

t.test('R4\'s own definitions put structuredefinition-fhir-type and regex on ElementDefinition.type, beyond their context: accepted there', async (t) => {
  const s = await startTestServer(t);
  const race = JSON.parse(readFileSync(new URL('../../profiles/us-core-race.json', import.meta.url), 'utf8'));
  const onType = race.snapshot.element.flatMap((e: any) => e.type ?? []).filter((type: any) => type.extension?.length > 0);
  t.ok(onType.length > 0, 'the profile carries them');
  const response = await s.request({ method: 'POST', url: '/fhir/StructureDefinition/$validate', headers: FHIR_JSON_HEADERS, payload: race });
  t.same(s.json(response).issue.filter((i: any) => /is not allowed here/.test(i.diagnostics)), []);
});
