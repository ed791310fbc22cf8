/**
 * The corpus's mutations: each breaks one rule of a valid resource. A targeted mutation names a
 * resource type (or '*'), a path and what to do there; it is applied to every base resource of
 * that type where it makes sense (the element, or its parent, exists). The systematic ones
 * (wrong JSON type, null, empty) are generated from the elements each base really has.
 */
import { deleteAt, elementPaths, getAt, hasAt, setAt } from './paths.js';

type Json = unknown;
export type Resource = Record<string, Json>;

export interface Mutation {
  family: string;
  rule: string;
  /** Resource type(s) it applies to; '*' for any. */
  types: string[] | '*';
  apply(resource: Resource): Resource | undefined;
  /** The verdict a correct validator gives: almost always invalid. */
  expect?: 'valid' | 'invalid';
  /** Rules that do not depend on the resource type are tried on the hand-written bases only, so they do not swamp the corpus. */
  handWrittenOnly?: boolean;
}

const XHTML = 'http://www.w3.org/1999/xhtml';

// ---------------------------------------------------------------- building blocks

/** Replace an element that exists. */
const replace = (path: string, value: Json) => (r: Resource) => (hasAt(r, path) ? (setAt(r, path, value) as Resource) : undefined);
/** Set an element whose parent exists (adding it if absent). */
const put = (path: string, value: Json) => (r: Resource) => setAt(r, path, value) as Resource | undefined;
const remove = (path: string) => (r: Resource) => deleteAt(r, path) as Resource | undefined;
/** Apply several changes; all must apply. */
const all = (...steps: ((r: Resource) => Resource | undefined)[]) => (r: Resource) =>
  steps.reduce<Resource | undefined>((acc, step) => (acc ? step(acc) : undefined), r);

function m(family: string, types: string[] | '*', rule: string, apply: (r: Resource) => Resource | undefined, expect?: 'valid'): Mutation {
  return { family, types, rule, apply, expect };
}

/** The same bad values at several paths: one mutation per path and value. */
function each(family: string, types: string[] | '*', paths: string[], values: Json[], how: 'replace' | 'put' = 'replace'): Mutation[] {
  return paths.flatMap((path) =>
    values.map((value) => m(family, types, `${path} = ${JSON.stringify(value)}`, how === 'replace' ? replace(path, value) : put(path, value))),
  );
}

// ---------------------------------------------------------------- primitive formats

const BAD_DATES = ['1980-02-30', '1980-13-01', '19800101', '1980-1-1', '1980-01-01T00:00:00Z', '80', ' 1980-01-01', '1980-00'];
const BAD_DATETIMES = ['2020-01-01T10:00', '2020-01-01T10:00:00', '2020-01-01 10:00:00Z', '2020-02-30T00:00:00Z', '2020-01-01T25:00:00Z', '2020-01-01T10:00:00+2', 'yesterday'];
const BAD_INSTANTS = ['2020-01-01', '2020-01-01T10:00:00', '2020-01-01T10:00Z', '2020-13-01T10:00:00Z', '2020'];
const BAD_IDS = ['has space', 'a_b', 'x'.repeat(65), 'é1', 'a/b'];
const BAD_CODES = [' female', 'female ', 'fe  male'];
const BAD_URIS = ['has space', ' http://example.org/x'];
const BAD_BASE64 = ['not base64!', '%%%%', 'YWJj=ZGVm'];

const primitiveFormats: Mutation[] = [
  ...each('primitive-date', ['Patient'], ['birthDate'], BAD_DATES, 'put'),
  ...each('primitive-date', ['Consent'], ['provision.dataPeriod.start'], ['2000-13-01']),
  ...each('primitive-dateTime', ['Patient'], ['deceasedDateTime'], BAD_DATETIMES),
  ...each('primitive-dateTime', ['Consent'], ['dateTime'], BAD_DATETIMES.slice(0, 4), 'put'),
  ...each('primitive-dateTime', ['DocumentReference'], ['content[0].attachment.creation', 'context.period.start'], ['2024-02-01T17:40', '2024-02-31']),
  ...each('primitive-dateTime', '*', ['name[0].period.start', 'identifier[0].period.start', 'address[0].period.start'], ['2001-03-01T10:00']),
  ...each('primitive-instant', ['AuditEvent'], ['recorded'], BAD_INSTANTS),
  ...each('primitive-instant', ['DocumentReference'], ['date'], BAD_INSTANTS.slice(0, 3), 'put'),
  ...each('primitive-instant', '*', ['meta.lastUpdated'], BAD_INSTANTS.slice(0, 3)),
  ...each('primitive-id', ['Patient', 'AuditEvent'], ['id'], BAD_IDS, 'put'),
  ...each('primitive-id', '*', ['id'], BAD_IDS.slice(0, 1), 'put'),
  ...each('primitive-id', '*', ['contained[0].id'], ['bad id']),
  ...each('primitive-code', ['Patient'], ['gender'], BAD_CODES, 'put'),
  ...each('primitive-code', ['DocumentReference'], ['status'], ['current '], 'put'),
  ...each('primitive-uri', '*', ['identifier[0].system'], BAD_URIS),
  ...each('primitive-uri', ['Consent'], ['policy[0].uri'], BAD_URIS),
  ...each('primitive-uri', '*', ['meta.profile[0]'], ['http://example.org/has space']),
  ...each('primitive-uri', ['StructureDefinition'], ['url'], ['not a url']),
  ...each('primitive-oid-uuid', '*', ['identifier[1].system'], ['urn:oid:1.2.x', 'urn:uuid:not-a-uuid']),
  ...each('primitive-boolean', ['Patient'], ['active'], ['true', 1]),
  ...each('primitive-boolean', ['AuditEvent'], ['agent[0].requestor'], ['true', 0]),
  ...each('primitive-integer', ['Patient'], ['multipleBirthInteger'], [2.5, '2', 2147483648]),
  ...each('primitive-positiveInt', '*', ['telecom[0].rank', 'telecom[1].rank'], [0, -1]),
  ...each('primitive-unsignedInt', ['DocumentReference', 'Patient'], ['content[0].attachment.size', 'photo[0].size'], [-1, 1.5, '18']),
  ...each('primitive-decimal', ['Patient'], ['extension[0].valueDecimal'], ['81.25', true]),
  ...each('primitive-base64', ['DocumentReference', 'Patient'], ['content[0].attachment.data', 'photo[0].data'], BAD_BASE64),
  ...each('primitive-base64', ['AuditEvent'], ['entity[0].query', 'entity[0].detail[1].valueBase64Binary'], BAD_BASE64.slice(0, 2)),
  ...each('primitive-string', '*', ['name[0].family', 'description'], ['   ', ' leading']),
  ...each('primitive-canonical', ['StructureDefinition'], ['baseDefinition'], ['Patient base']),
];

// ---------------------------------------------------------------- required elements

const required: Mutation[] = [
  ...['status', 'content', 'content[0].attachment'].map((p) => m('required', ['DocumentReference'], `without ${p}`, remove(p))),
  ...['status', 'scope', 'category', 'provision.actor[0].role', 'provision.actor[0].reference', 'verification[0].verified'].map((p) =>
    m('required', ['Consent'], `without ${p}`, remove(p)),
  ),
  ...['type', 'recorded', 'agent', 'agent[0].requestor', 'source', 'source.observer', 'entity[0].detail[0].type', 'entity[0].detail[0].valueString'].map((p) =>
    m('required', ['AuditEvent'], `without ${p}`, remove(p)),
  ),
  ...['communication[0].language', 'link[0].other', 'link[0].type'].map((p) => m('required', ['Patient'], `without ${p}`, remove(p))),
  ...['url', 'name', 'status', 'kind', 'abstract', 'type'].map((p) => m('required', ['StructureDefinition'], `without ${p}`, remove(p))),
  m('required', '*', 'without text.status', remove('text.status')),
  m('required', '*', 'without text.div', remove('text.div')),
  m('required', '*', 'without extension[0].url', remove('extension[0].url')),
  m('required', '*', 'agent with empty array', replace('agent', [])),
  m('required', '*', 'content with empty array', replace('content', [])),
];

// ---------------------------------------------------------------- required bindings

const bindings: Mutation[] = [
  ...each('binding-required', ['Patient'], ['gender', 'contact[0].gender'], ['M', 'Female', 'x'], 'replace'),
  ...each('binding-required', '*', ['name[0].use', 'telecom[0].system', 'telecom[0].use', 'address[0].use', 'address[0].type', 'identifier[0].use'], ['bogus']),
  ...each('binding-required', ['Patient'], ['link[0].type'], ['same']),
  ...each('binding-required', ['DocumentReference'], ['status'], ['final', 'draft'], 'put'),
  ...each('binding-required', ['DocumentReference'], ['docStatus', 'relatesTo[0].code'], ['bogus']),
  ...each('binding-required', '*', ['content[0].attachment.contentType', 'photo[0].contentType', 'sourceAttachment.contentType'], ['pdf', 'text plain']),
  ...each('binding-required', ['Consent'], ['status'], ['signed', 'Active']),
  ...each('binding-required', ['Consent'], ['provision.type', 'provision.provision[0].type', 'provision.data[0].meaning'], ['allow']),
  ...each('binding-required', ['AuditEvent'], ['action'], ['X', 'read']),
  ...each('binding-required', ['AuditEvent'], ['outcome'], ['1', 'success']),
  ...each('binding-required', ['AuditEvent'], ['agent[0].network.type'], ['9']),
  ...each('binding-required', '*', ['text.status'], ['complete']),
  ...each('binding-required', ['StructureDefinition'], ['kind', 'derivation', 'status', 'fhirVersion'], ['bogus']),
  ...each('binding-code-system', ['Consent'], ['scope.coding[0].code'], ['nonsense']),
  ...each('binding-code-system', ['AuditEvent'], ['type.code'], ['nonsense']),
  ...each('binding-code-system', ['Patient'], ['maritalStatus.coding[0].code'], ['Q']),
];

// ---------------------------------------------------------------- invariants

const period = { start: '2020-06-01', end: '2020-01-01' };
const invariants: Mutation[] = [
  ...each('invariant-per-1', '*', ['name[0].period', 'identifier[0].period', 'address[0].period', 'context.period', 'provision.period', 'period', 'contact[0].period'], [period]),
  m('invariant-pat-1', ['Patient'], 'contact with only a relationship', put('contact', [{ relationship: [{ text: 'friend' }] }])),
  m('invariant-cpt-2', '*', 'telecom value without system', all(replace('telecom[0]', { value: '555 0100' }))),
  m('invariant-att-1', '*', 'attachment data without contentType', remove('content[0].attachment.contentType')),
  m('invariant-att-1', ['Patient'], 'photo data without contentType', remove('photo[0].contentType')),
  m('invariant-att-size-hash', ['DocumentReference'], 'attachment size does not match data', replace('content[0].attachment.size', 99)),
  m('invariant-att-size-hash', ['DocumentReference'], 'attachment hash does not match data', replace('content[0].attachment.hash', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')),
  m('invariant-sev-1', ['AuditEvent'], 'entity with name and query', all(replace('entity[0].query', 'cXVlcnk='), put('entity[0].name', 'both'))),
  m('invariant-ppc-1', ['Consent'], 'neither policy nor policyRule', all(remove('policyRule'), (r) => (hasAt(r, 'policy') ? deleteAt(r, 'policy') as Resource : r))),
  m('invariant-ppc-2', ['Consent'], 'privacy scope without patient', (r) =>
    getAt(r, 'scope.coding[0].code') === 'patient-privacy' ? (deleteAt(r, 'patient') as Resource) : undefined,
  ),
  m('invariant-ppc-3', ['Consent'], 'research scope without patient', (r) => (getAt(r, 'scope.coding[0].code') === 'research' ? (deleteAt(r, 'patient') as Resource) : undefined)),
  m('invariant-ppc-5', ['Consent'], 'treatment scope without patient', (r) => (getAt(r, 'scope.coding[0].code') === 'treatment' ? (deleteAt(r, 'patient') as Resource) : undefined)),
  m('invariant-ppc-4', ['Consent'], 'adr scope without sourceAttachment or sourceReference', (r) =>
    all(put('scope', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'adr' }] }), (x) => {
      const copy = structuredClone(x);
      delete copy.sourceAttachment;
      delete copy.sourceReference;
      return copy;
    })(r),
  ),
  m('invariant-ext-1', '*', 'extension with value and nested extensions', (r) =>
    hasAt(r, 'extension[0]') ? (setAt(r, 'extension[0].extension', [{ url: 'part', valueString: 'x' }]) as Resource) : undefined,
  ),
  m('invariant-ext-1', '*', 'extension with neither value nor extensions', replace('extension[0]', { url: 'http://example.org/fhir/StructureDefinition/empty' })),
  m('invariant-ele-1', '*', 'empty object in meta', put('meta', {})),
  m('invariant-ele-1', '*', 'empty period', replace('name[0].period', {})),
  m('invariant-ref-1', '*', 'local reference with no contained resource', replace('managingOrganization', { reference: '#nowhere' })),
  m('invariant-ref-1', ['DocumentReference'], 'author points to a missing contained', replace('author[0]', { reference: '#nobody' })),
  m('invariant-sdf', ['StructureDefinition'], 'differential path outside the type', (r) =>
    hasAt(r, 'differential.element') ? (put('differential.element', [...(getAt(r, 'differential.element') as Json[]), { id: 'Observation.code', path: 'Observation.code', min: 1 }])(r)) : undefined,
  ),
  m('invariant-sdf', ['StructureDefinition'], 'differential min above max', (r) =>
    hasAt(r, 'differential.element[1]') ? (put('differential.element[1].max', '0')(put('differential.element[1].min', 1)(r)!)) : undefined,
  ),
  m('invariant-sdf', ['StructureDefinition'], 'differential on an unknown element', (r) =>
    hasAt(r, 'differential.element')
      ? put('differential.element', [...(getAt(r, 'differential.element') as Json[]), { id: `${r.type}.nonsense`, path: `${r.type}.nonsense`, min: 1 }])(r)
      : undefined,
  ),
];

// ---------------------------------------------------------------- references

const refs: Mutation[] = [
  ...each('reference-target', ['Patient'], ['generalPractitioner[0].reference'], ['Consent/c1', 'Patient/p2']),
  ...each('reference-target', ['Patient'], ['managingOrganization.reference'], ['Practitioner/dr-1']),
  ...each('reference-target', ['Patient'], ['link[0].other.reference'], ['Organization/o1']),
  ...each('reference-target', ['Patient'], ['contact[0].organization.reference'], ['Patient/p2']),
  ...each('reference-target', ['DocumentReference'], ['subject.reference'], ['Consent/c1', 'http://other.example.org/fhir/AuditEvent/a1']),
  ...each('reference-target', ['DocumentReference'], ['author[1].reference', 'custodian.reference', 'relatesTo[0].target.reference', 'authenticator.reference'], ['Consent/c1']),
  ...each('reference-target', ['Consent'], ['patient.reference'], ['Practitioner/dr-1', 'Group/g1']),
  ...each('reference-target', ['Consent'], ['organization[0].reference', 'sourceReference.reference', 'provision.actor[0].reference.reference'], ['Consent/c1']),
  ...each('reference-target', ['AuditEvent'], ['agent[0].who.reference', 'agent[0].location.reference', 'source.observer.reference'], ['Consent/c1']),
  ...each('reference-format', '*', ['subject.reference', 'patient.reference', 'generalPractitioner[0].reference'], ['Patient/', 'Patient/has space', 'patient/p1', '/Patient/p1']),
  ...each('reference-format', ['AuditEvent'], ['entity[0].what.reference'], ['Patient/has space']),
  m('reference-target', ['AuditEvent'], 'entity.what may be any resource', replace('entity[0].what', { reference: 'Consent/c1' }), 'valid'),
];

// ---------------------------------------------------------------- unknown and extra elements

const unknown: Mutation[] = [
  m('unknown-element', '*', 'unknown root element', put('colour', 'blue')),
  m('unknown-element', '*', 'unknown element in meta', (r) => put('meta', { ...((r.meta as object) ?? {}), owner: 'me' })(r)),
  m('unknown-element', '*', 'unknown element in the first name', put('name[0].nickname', 'Mimi')),
  m('unknown-element', '*', 'unknown element in text', put('text.lang', 'en')),
  m('unknown-element', '*', 'unknown element in a contained resource', put('contained[0].colour', 'blue')),
  m('unknown-element', ['Patient'], 'element name in the wrong case', (r) => (hasAt(r, 'birthDate') ? { ...(deleteAt(r, 'birthDate') as Resource), birthdate: r.birthDate } : undefined)),
  m('unknown-element', ['Patient'], 'a choice type that does not exist', put('deceasedString', 'no')),
  m('unknown-element', ['Patient'], 'two values of one choice', (r) => (hasAt(r, 'deceasedBoolean') ? put('deceasedDateTime', '2020-01-01')(r) : put('deceasedBoolean', true)(r))),
  m('unknown-element', '*', 'extension value of an unknown type', replace('extension[0]', { url: 'http://example.org/fhir/StructureDefinition/x', valueFoo: 1 })),
  m('unknown-element', ['AuditEvent'], 'element of another resource', put('gender', 'male')),
  m('unknown-element', ['DocumentReference'], 'R5 element name', put('version', '2')),
  m('unknown-element', ['Consent'], 'R5 element name', put('subject', { reference: 'Patient/p1' })),
];

// ---------------------------------------------------------------- contained resources

const contained: Mutation[] = [
  m('contained-dom-2', '*', 'contained resource with its own contained', (r) =>
    hasAt(r, 'contained[0]') ? (put('contained[0].contained', [{ resourceType: 'Organization', id: 'inner', name: 'Inner' }])(r)) : undefined,
  ),
  m('contained-dom-3', '*', 'contained resource nobody references', (r) =>
    put('contained', [...((r.contained as Json[]) ?? []), { resourceType: 'Organization', id: 'orphan', name: 'Orphan' }])(r),
  ),
  m('contained-dom-4', '*', 'contained resource with meta.versionId', put('contained[0].meta', { versionId: '1' })),
  m('contained-dom-4', '*', 'contained resource with meta.lastUpdated', put('contained[0].meta', { lastUpdated: '2024-01-01T00:00:00Z' })),
  m('contained-dom-5', '*', 'contained resource with a security label', put('contained[0].meta', { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] })),
  m('contained-structure', '*', 'contained resource without resourceType', (r) => (hasAt(r, 'contained[0]') ? remove('contained[0].resourceType')(r) : undefined)),
  m('contained-structure', '*', 'contained resource without id', (r) => (hasAt(r, 'contained[0]') ? remove('contained[0].id')(r) : undefined)),
  m('contained-structure', '*', 'contained resource of an unknown type', replace('contained[0].resourceType', 'Organisation')),
  m('contained-structure', '*', 'contained resource with a bad element', put('contained[0].active', 'yes')),
  m('contained-structure', '*', 'contained is an object, not an array', (r) => (hasAt(r, 'contained[0]') ? put('contained', getAt(r, 'contained[0]'))(r) : undefined)),
  m('contained-structure', '*', 'contained referenced with a narrative of its own', put('contained[0].text', { status: 'generated', div: `<div xmlns="${XHTML}">inner</div>` }), 'valid'),
];

// ---------------------------------------------------------------- narrative

const div = (inner: string, attrs = `xmlns="${XHTML}"`) => `<div ${attrs}>${inner}</div>`;
const narrative: Mutation[] = [
  ...each('narrative-xhtml', '*', ['text.div'], [
    '<p>no div</p>',
    '<div>no namespace</div>',
    div('<script>alert(1)</script>'),
    div('<p onclick="x()">click</p>'),
    div('<p>unclosed'),
    div('<iframe src="http://example.org"></iframe>'),
    div('<form><input/></form>'),
    div('<a href="javascript:alert(1)">x</a>'),
    div('caf&eacute;'),
    div('<p>text</p>') + '<p>after</p>',
    'plain text',
    div('<object data="x"></object>'),
  ]),
  ...each('narrative-txt-2', '*', ['text.div'], [div(''), div('   '), div('<p></p>')]),
  ...each('narrative-valid', '*', ['text.div'], [
    div('<p>caf&amp;é &lt;x&gt;</p>'),
    div('<table><tbody><tr><th>a</th><td>b</td></tr></tbody></table>'),
    div('<p style="color: red">styled</p><img src="#photo" alt="x"/>'),
    div('<ul><li>one</li></ul><br/><span class="a">b</span>'),
  ]).map((x) => ({ ...x, expect: 'valid' as const })),
  m('narrative-structure', '*', 'div is a number', replace('text.div', 42)),
  m('narrative-structure', '*', 'text is a string', replace('text', 'a narrative')),
  m('narrative-structure', '*', 'text.status bogus', replace('text.status', 'bogus')),
];

// ---------------------------------------------------------------- extensions

const extensions: Mutation[] = [
  m('extension', '*', 'extension is an object, not an array', (r) => (hasAt(r, 'extension[0]') ? put('extension', getAt(r, 'extension[0]'))(r) : undefined)),
  m('extension', '*', 'relative extension url', replace('extension[0].url', 'birthPlace')),
  m('extension', ['Patient'], 'HL7 extension with the wrong value type', put('extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueString: 'Genova' }])),
  m('extension', ['Patient'], 'HL7 extension on the wrong element', put('extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1980-01-01T10:00:00Z' }])),
  m('extension', ['Patient'], 'unknown extension (accepted: --any-extensions)', put('extension', [{ url: 'http://example.org/fhir/StructureDefinition/shoe-size', valueInteger: 42 }]), 'valid'),
  m('extension', ['Patient'], 'unknown modifier extension', put('modifierExtension', [{ url: 'http://example.org/fhir/StructureDefinition/not-really', valueBoolean: true }])),
  m('extension', ['Patient'], 'primitive extension with a bad value', put('_birthDate', { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1974-12-25T25:00:00Z' }] })),
];

// ---------------------------------------------------------------- JSON representation (as objects)

const representation: Mutation[] = [
  m('json-representation', ['Patient'], '_gender with a value inside', put('_gender', { value: 'male' })),
  m('json-representation', ['Patient'], '_gender is an array', put('_gender', [{ id: 'g' }])),
  m('json-representation', ['Patient'], '_given shorter than given', (r) => (hasAt(r, 'name[0].given[1]') ? put('name[0]._given', [{ id: 'a' }])(r) : undefined)),
  m('json-representation', ['Patient'], 'null in given with a matching _given', (r) =>
    hasAt(r, 'name[0].given[0]') ? (all(put('name[0].given', [null, 'B']), put('name[0]._given', [{ extension: [{ url: 'http://example.org/x', valueString: 'a' }] }, null]))(r)) : undefined,
  'valid'),
  m('json-representation', ['Patient'], 'null in given without _given', (r) => (hasAt(r, 'name[0].given[0]') ? put('name[0].given', [null, 'B'])(r) : undefined)),
  m('json-representation', ['Patient'], '_birthDate without birthDate', (r) =>
    hasAt(r, 'birthDate') ? { ...(deleteAt(r, 'birthDate') as Resource), _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'unknown' }] } } : undefined,
  'valid'),
  m('json-representation', ['Patient'], 'primitive as an object with value', replace('gender', { value: 'male' })),
  m('json-representation', '*', 'fhir_comments', put('fhir_comments', ['a comment'])),
  m('json-representation', '*', 'resourceType in lower case', (r) => ({ ...r, resourceType: (r.resourceType as string).toLowerCase() })),
  m('json-representation', '*', 'resourceType missing', (r) => {
    const copy = structuredClone(r);
    delete copy.resourceType;
    return copy;
  }),
  m('json-representation', '*', 'empty key', put('', 'x')),
];

const anyType = (list: Mutation[]) => list.map((x) => (x.types === '*' ? { ...x, handWrittenOnly: true } : x));

export const TARGETED: Mutation[] = [
  ...primitiveFormats, ...required, ...bindings, ...invariants, ...refs, ...anyType(unknown), ...contained, ...anyType(narrative), ...extensions, ...anyType(representation),
];

// ---------------------------------------------------------------- systematic: JSON type, null, empty

/** A value of another JSON type than the element's. */
export function wrongJsonType(value: Json): Json {
  if (typeof value === 'string') return 42;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value[0];
  return [value];
}

function emptyOf(value: Json): Json {
  if (typeof value === 'string') return '';
  if (Array.isArray(value)) return [];
  if (typeof value === 'object' && value !== null) return {};
  return undefined;
}

/** Wrong JSON type for each element of the base (and, for depth 2, one level down); null and empty values for its own elements. */
export function systematic(base: Resource, depth: 1 | 2): Mutation[] {
  const out: Mutation[] = [];
  for (const path of elementPaths(base, depth)) {
    const value = getAt(base, path);
    if (path === 'text.div' || path.startsWith('contained')) continue; // narrative and contained have families of their own
    out.push(m('json-type', '*', `${path}: ${describeType(value)} -> ${describeType(wrongJsonType(value))}`, replace(path, wrongJsonType(value))));
    if (path.includes('.')) continue;
    out.push(m('json-null', '*', `${path}: null`, replace(path, null)));
    const empty = emptyOf(value);
    if (empty !== undefined) out.push(m('json-empty', '*', `${path}: ${JSON.stringify(empty)}`, replace(path, empty)));
  }
  return out;
}

function describeType(v: Json): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

// ---------------------------------------------------------------- profiles

export interface ProfileMutation extends Mutation {
  /** Only for bases claiming this profile. */
  profile: string;
}

export const US_CORE_PATIENT = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';
export const RECORDS_DOCUMENT = 'http://fhir.records.example.org/StructureDefinition/records-document-reference';

const p = (profile: string, family: string, rule: string, apply: (r: Resource) => Resource | undefined): ProfileMutation => ({
  ...m(family, '*', rule, apply),
  profile,
});

export const PROFILE_MUTATIONS: ProfileMutation[] = [
  ...['identifier', 'identifier[0].system', 'identifier[0].value', 'name', 'gender', 'telecom[0].system', 'telecom[0].value', 'communication[0].language', 'address[0].line']
    .map((path) => p(US_CORE_PATIENT, 'profile-us-core', `without ${path}`, remove(path))),
  p(US_CORE_PATIENT, 'profile-us-core', 'name without family or given (us-core-6)', replace('name', [{ use: 'official', text: 'Amy Shaw' }])),
  p(US_CORE_PATIENT, 'profile-us-core', 'race extension without its text', (r) => removeWhere(r, 'extension', (e) => e.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', 'text')),
  p(US_CORE_PATIENT, 'profile-us-core', 'race extension with a value instead of parts', (r) => replaceWhere(r, 'extension', (e) => e.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', valueString: 'White' })),
  p(US_CORE_PATIENT, 'profile-us-core', 'birthsex with a code of another type', (r) => replaceWhere(r, 'extension', (e) => e.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueString: 'F' })),
  p(US_CORE_PATIENT, 'profile-us-core', 'two birthsex extensions', (r) => ({ ...r, extension: [...((r.extension as Json[]) ?? []), { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'M' }, { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'F' }] })),
  ...['subject', 'type', 'date', 'author', 'content[0].attachment.contentType'].map((path) => p(RECORDS_DOCUMENT, 'profile-records', `without ${path}`, remove(path))),
  p(RECORDS_DOCUMENT, 'profile-records', 'without the accession identifier', (r) => ({ ...r, identifier: ((r.identifier as Resource[]) ?? []).filter((i) => i.system !== 'http://records.example.org/accession') })),
  p(RECORDS_DOCUMENT, 'profile-records', 'two accession identifiers', (r) => ({ ...r, identifier: [...((r.identifier as Json[]) ?? []), { system: 'http://records.example.org/accession', value: 'A-2' }] })),
  p(RECORDS_DOCUMENT, 'profile-records', 'accession identifier without value', (r) => ({ ...r, identifier: [{ system: 'http://records.example.org/accession' }] })),
  p(RECORDS_DOCUMENT, 'profile-records', 'subject a Group (profile narrows to Patient)', replace('subject', { reference: 'Group/g1' })),
  p(RECORDS_DOCUMENT, 'profile-records', 'subject a Practitioner (profile narrows to Patient)', replace('subject', { reference: 'Practitioner/dr-1' })),
];

/** Bases that do not claim a profile, claiming one they do not meet (or one nobody knows). */
export const CLAIMS: Mutation[] = [
  m('profile-records', ['DocumentReference'], 'claims the records profile without meeting it', (r) => (r.meta && (r.meta as Resource).profile ? undefined : { ...r, meta: { ...((r.meta as object) ?? {}), profile: [RECORDS_DOCUMENT] } })),
  m('profile-us-core', ['Patient'], 'claims US Core without meeting it', (r) => (r.meta && (r.meta as Resource).profile ? undefined : { ...r, meta: { ...((r.meta as object) ?? {}), profile: [US_CORE_PATIENT] } })),
  m('profile-unknown', ['Patient', 'DocumentReference'], 'claims a profile nobody knows', (r) => ({ ...r, meta: { ...((r.meta as object) ?? {}), profile: ['http://example.org/fhir/StructureDefinition/unknown'] } })),
  m('profile-wrong-type', ['Patient', 'Consent', 'AuditEvent'], 'claims the DocumentReference profile', (r) => ({ ...r, meta: { ...((r.meta as object) ?? {}), profile: [RECORDS_DOCUMENT] } })),
];

function removeWhere(r: Resource, key: string, match: (e: Resource) => boolean, part: string): Resource | undefined {
  const list = r[key] as Resource[] | undefined;
  const index = list?.findIndex(match) ?? -1;
  if (index < 0) return undefined;
  const copy = structuredClone(r);
  const item = (copy[key] as Resource[])[index];
  item.extension = ((item.extension as Resource[]) ?? []).filter((e) => e.url !== part);
  return copy;
}

function replaceWhere(r: Resource, key: string, match: (e: Resource) => boolean, value: Json): Resource | undefined {
  const list = r[key] as Resource[] | undefined;
  const index = list?.findIndex(match) ?? -1;
  if (index < 0) return undefined;
  return setAt(r, `${key}[${index}]`, value) as Resource;
}
