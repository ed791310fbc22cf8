/** Small profiles, one per kind of slicing, stored by test/validation/slicing.test.ts. */
const BASE = 'http://hl7.org/fhir/StructureDefinition/';
export const URL_PREFIX = 'http://fhir.records.example.org/StructureDefinition/';

function profile(id: string, type: string, element: object[]): any {
  return {
    resourceType: 'StructureDefinition',
    id,
    url: `${URL_PREFIX}${id}`,
    name: id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
    status: 'active',
    kind: 'resource',
    abstract: false,
    type,
    baseDefinition: `${BASE}${type}`,
    derivation: 'constraint',
    differential: { element: element.map((e: any) => ({ path: e.id.replace(/:[^.]+/g, ''), ...e })) },
  };
}

/** identifier sliced by system (value); `value` required on every identifier, `type` only on the MRN. */
export const slicedIdentifier = profile('sliced-identifier', 'Patient', [
  { id: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'openAtEnd' } },
  { id: 'Patient.identifier.value', min: 1 },
  { id: 'Patient.identifier:mrn', sliceName: 'mrn', min: 1, max: '1' },
  { id: 'Patient.identifier:mrn.type', min: 1 },
  { id: 'Patient.identifier:mrn.system', min: 1, fixedUri: 'http://hospital.example.org/mrn' },
]);

/** contact sliced by whether it names an organization (exists): at most one agency; persons need a name. */
export const contactsByExists = profile('contacts-by-exists', 'Patient', [
  { id: 'Patient.contact', slicing: { discriminator: [{ type: 'exists', path: 'organization' }], rules: 'closed' } },
  { id: 'Patient.contact:agency', sliceName: 'agency', max: '1' },
  { id: 'Patient.contact:agency.organization', min: 1 },
  { id: 'Patient.contact:person', sliceName: 'person' },
  { id: 'Patient.contact:person.name', min: 1 },
  { id: 'Patient.contact:person.organization', max: '0' },
]);

/** source[x] sliced by type: an Attachment must be a PDF; a Reference is open. */
export const pdfSource = profile('pdf-source', 'Consent', [
  { id: 'Consent.source[x]', slicing: { discriminator: [{ type: 'type', path: '$this' }], rules: 'open' } },
  { id: 'Consent.source[x]:sourceAttachment', sliceName: 'sourceAttachment', type: [{ code: 'Attachment' }] },
  { id: 'Consent.source[x]:sourceAttachment.contentType', min: 1, fixedCode: 'application/pdf' },
]);

/** Contained resources sliced by type: one Patient first, then Practitioners, nothing else (closed, ordered). */
export const containedByType = profile('contained-by-type', 'DocumentReference', [
  { id: 'DocumentReference.contained', slicing: { discriminator: [{ type: 'type', path: '$this' }], rules: 'closed', ordered: true } },
  { id: 'DocumentReference.contained:patient', sliceName: 'patient', min: 1, max: '1', type: [{ code: 'Patient' }] },
  { id: 'DocumentReference.contained:practitioner', sliceName: 'practitioner', type: [{ code: 'Practitioner' }] },
]);

/** A Patient with a birth date, the target of the profile discriminator below. */
export const datedPatient = profile('dated-patient', 'Patient', [{ id: 'Patient.birthDate', min: 1 }]);

/** Contained resources sliced by profile: exactly one conforms to dated-patient. */
export const containedByProfile = profile('contained-by-profile', 'DocumentReference', [
  { id: 'DocumentReference.contained', slicing: { discriminator: [{ type: 'profile', path: '$this' }], rules: 'open' } },
  { id: 'DocumentReference.contained:dated', sliceName: 'dated', min: 1, max: '1', type: [{ code: 'Patient', profile: [datedPatient.url] }] },
]);

/** author sliced by the profile of what it refers to (resolve()): one author is a dated-patient. */
export const authorByProfile = profile('author-by-profile', 'DocumentReference', [
  { id: 'DocumentReference.author', slicing: { discriminator: [{ type: 'profile', path: 'resolve()' }], rules: 'open' } },
  { id: 'DocumentReference.author:patient', sliceName: 'patient', min: 1, max: '1', type: [{ code: 'Reference', targetProfile: [datedPatient.url] }] },
]);

/** generalPractitioner sliced by the type of what it refers to (resolve()): one Practitioner, closed. */
export const practitionerGp = profile('practitioner-gp', 'Patient', [
  { id: 'Patient.generalPractitioner', slicing: { discriminator: [{ type: 'type', path: 'resolve()' }], rules: 'closed' } },
  { id: 'Patient.generalPractitioner:gp', sliceName: 'gp', min: 1, max: '1', type: [{ code: 'Reference', targetProfile: [`${BASE}Practitioner`] }] },
]);

export const allProfiles = [slicedIdentifier, contactsByExists, pdfSource, containedByType, datedPatient, containedByProfile, authorByProfile, practitionerGp];
