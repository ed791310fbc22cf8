import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, fixture, summary } from '../helpers/validation.js';
import {
  allProfiles,
  authorByProfile,
  containedByProfile,
  containedByType,
  contactsByExists,
  pdfSource,
  practitionerGp,
  slicedIdentifier,
} from './slicing-profiles.js';

const claiming = (profile: { url: string }, resource: any) => ({ ...resource, meta: { profile: [profile.url] } });
const mrn = (value: string) => ({ system: 'http://hospital.example.org/mrn', value, type: { text: 'MRN' } });

t.test('slicing in stored profiles', async (t) => {
  const s = await startTestServer(t);
  for (const profile of allProfiles) {
    const stored = await s.request({ method: 'PUT', url: `/fhir/StructureDefinition/${profile.id}`, headers: FHIR_JSON_HEADERS, payload: profile });
    t.equal(stored.statusCode, 201, `${profile.id} stored`);
  }
  const problems = async (resource: any) => summary(errors((await create(s, resource)).issues));

  t.test('value discriminator: a conforming patient is accepted', async (t) => {
    const { status, issues } = await create(s, claiming(slicedIdentifier, { resourceType: 'Patient', identifier: [mrn('1'), { system: 'urn:x', value: '2' }] }));
    t.same(summary(errors(issues)), []);
    t.equal(status, 201);
  });

  t.test('a constraint on the sliced element holds in its slices (identifier.value on the MRN)', async (t) => {
    const patient = claiming(slicedIdentifier, { resourceType: 'Patient', identifier: [{ ...mrn('1'), value: undefined }] });
    t.same(await problems(patient), ['error required Patient.identifier[0].value']);
  });

  t.test('a constraint under a slice applies to that slice only (type on the MRN)', async (t) => {
    const { type: _, ...untyped } = mrn('1');
    t.same(await problems(claiming(slicedIdentifier, { resourceType: 'Patient', identifier: [untyped] })), ['error required Patient.identifier[0].type']);
    const other = { system: 'urn:x', value: '2' };
    t.same(await problems(claiming(slicedIdentifier, { resourceType: 'Patient', identifier: [mrn('1'), other] })), [], 'other identifiers need no type');
  });

  t.test('openAtEnd: items of no slice come after the sliced ones', async (t) => {
    const patient = claiming(slicedIdentifier, { resourceType: 'Patient', identifier: [{ system: 'urn:x', value: '2' }, mrn('1')] });
    t.same(await problems(patient), ['error structure Patient.identifier[1]']);
  });

  t.test('exists discriminator: items go to the slice whose element presence they match', async (t) => {
    const person = { name: { family: 'Doe' } };
    const agency = { organization: { reference: 'Organization/o1' } };
    t.same(await problems(claiming(contactsByExists, { resourceType: 'Patient', contact: [person, agency] })), []);
    t.same(await problems(claiming(contactsByExists, { resourceType: 'Patient', contact: [agency, agency] })), ['error structure Patient.contact'], 'one agency at most');
    const nameless = { telecom: [{ system: 'phone', value: '555' }] };
    t.same(await problems(claiming(contactsByExists, { resourceType: 'Patient', contact: [nameless] })), ['error required Patient.contact[0].name'], 'a person needs a name');
  });

  t.test('type discriminator on a choice: the Attachment slice applies to sourceAttachment only', async (t) => {
    const consent = claiming(pdfSource, fixture('consent-example-notThis.json'));
    delete consent.sourceAttachment;
    t.same(await problems({ ...consent, sourceAttachment: { contentType: 'application/pdf', url: 'http://example.org/c.pdf' } }), []);
    t.same(await problems({ ...consent, sourceAttachment: { url: 'http://example.org/c.pdf' } }), ['error required Consent.source.ofType(Attachment).contentType']);
    t.same(await problems({ ...consent, sourceAttachment: { contentType: 'text/plain', url: 'http://example.org/c.txt' } }), [
      'error value Consent.source.ofType(Attachment).contentType',
    ]);
    t.same(await problems({ ...consent, sourceReference: { reference: 'Consent/c1' } }), [], 'other types are open');
  });

  const document = (profile: { url: string }, ...contained: any[]) =>
    claiming(profile, {
      resourceType: 'DocumentReference',
      status: 'current',
      contained,
      content: [{ attachment: { contentType: 'text/plain', data: 'aGk=' } }],
      author: contained.map((c) => ({ reference: `#${c.id}` })),
    });
  const patient = (id: string, more: object = {}) => ({ resourceType: 'Patient', id, ...more });
  const practitioner = (id: string) => ({ resourceType: 'Practitioner', id });

  t.test('type discriminator on contained resources, closed and ordered', async (t) => {
    t.same(await problems(document(containedByType, patient('p'), practitioner('d1'), practitioner('d2'))), []);
    t.same(await problems(document(containedByType, practitioner('d1'), patient('p'))), ['error structure DocumentReference.contained[1]'], 'the Patient comes first');
    t.same(await problems(document(containedByType, patient('p'), { resourceType: 'Organization', id: 'o', name: 'Ward 3' })), [
      'error structure DocumentReference.contained[1]',
    ], 'closed: no other types');
    t.same(await problems(document(containedByType, practitioner('d1'))), ['error required DocumentReference.contained'], 'the Patient is required');
    t.same(await problems(document(containedByType, patient('p'), patient('q'))), ['error structure DocumentReference.contained'], 'one Patient at most');
  });

  t.test('profile discriminator: the contained resource conforms to the slice profile', async (t) => {
    t.same(await problems(document(containedByProfile, patient('p', { birthDate: '1990-01-01' }), patient('q'))), []);
    t.same(await problems(document(containedByProfile, patient('q'))), ['error required DocumentReference.contained'], 'no Patient with a birth date');
    const twice = document(containedByProfile, patient('p', { birthDate: '1990-01-01' }), patient('q', { birthDate: '1991-01-01' }));
    t.same(await problems(twice), ['error structure DocumentReference.contained'], 'at most one');
  });

  t.test('profile discriminator through resolve(): the contained resource an author refers to', async (t) => {
    t.same(await problems(document(authorByProfile, patient('p', { birthDate: '1990-01-01' }))), []);
    t.same(await problems(document(authorByProfile, patient('q'))), ['error required DocumentReference.author'], 'the Patient has no birth date');
    const external = { ...document(authorByProfile), contained: undefined, author: [{ reference: 'Patient/elsewhere' }] };
    const { issues } = await create(s, external);
    t.same(summary(errors(issues)), ['error required DocumentReference.author']);
    t.match(issues.find((i) => i.severity === 'information')?.diagnostics, /could not resolve a reference/);
  });

  t.test('type discriminator through resolve(): the type the reference names', async (t) => {
    const patient = (...references: string[]) => claiming(practitionerGp, { resourceType: 'Patient', generalPractitioner: references.map((reference) => ({ reference })) });
    t.same(await problems(patient('Practitioner/p1')), []);
    t.same((await problems(patient('Organization/o1'))).sort(), ['error required Patient.generalPractitioner', 'error structure Patient.generalPractitioner[0]']);
  });
});
