/**
 * A synthetic population, deterministic from a seed: patients with names, identifiers, birth
 * dates and addresses; DocumentReferences with LOINC types, dates and authors; privacy
 * Consents; and AuditEvents of clinicians reading and writing patients' records. Same seed and
 * sizes, same resources in the same order.
 */
import type { AuditEvent, Consent, ConsentProvision, DocumentReference, Patient, Resource } from 'fhir/r4';

export interface DataSize {
  patients: number;
  documents: number;
  consents?: number;
  auditEvents?: number;
}

export const DEFAULT_SEED = 20240501;

/** mulberry32: a small seeded generator, so every run makes the same data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILIES = ['Smith', 'Müller', 'García', 'Nguyen', 'Johnson', 'Okafor', 'Kowalski', 'Rossi', 'Dubois', 'Tanaka', 'Silva', 'Jensen', 'Brown', 'Ivanova', 'Haddad', 'Kim'];
const GIVEN = ['Anna', 'José', 'Li', 'Mohammed', 'Olivia', 'Noah', 'Émile', 'Sara', 'Jonas', 'Amara', 'Yuki', 'Lucas', 'Fatima', 'Mia'];
const CITIES = ['Springfield', 'Köln', 'Lyon', 'Osaka', 'Lagos', 'Porto', 'Aarhus', 'Denver'];
export const DOC_TYPES = ['11506-3', '18842-5', '34117-2', '11488-4', '28570-0'];
/** The clinicians documents and audit records name (Practitioner/prac-0 ... prac-499). */
const PRACTITIONERS = 500;

const pad = (i: number) => String(i).padStart(7, '0');
// Zero-padded, so ids spread evenly in their sort order as server-assigned UUIDs do.
export const patientId = (i: number) => `pat-${pad(i)}`;
export const mrn = (i: number) => `MRN${pad(i)}`;

/** A day in 2015–2024 with a time of day, as an instant. */
function instant(rnd: () => number): string {
  return new Date(Date.UTC(2015, 0, 1) + Math.floor(rnd() * 3650) * 86_400_000 + Math.floor(rnd() * 86_400_000)).toISOString();
}

export function makePatient(i: number, rnd: () => number): Patient {
  const pick = <T>(list: T[]) => list[Math.floor(rnd() * list.length)];
  const year = 1930 + Math.floor(rnd() * 90);
  const month = 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28);
  return {
    resourceType: 'Patient',
    id: patientId(i),
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: mrn(i), type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }],
    name: [{ family: pick(FAMILIES), given: [pick(GIVEN)] }],
    gender: rnd() < 0.5 ? 'female' : 'male',
    birthDate: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    address: [{ line: [`${1 + Math.floor(rnd() * 200)} Main Street`], city: pick(CITIES), postalCode: String(10000 + Math.floor(rnd() * 89999)) }],
  };
}

export function makeDocument(j: number, patient: number, rnd: () => number): DocumentReference {
  const date = instant(rnd);
  return {
    resourceType: 'DocumentReference',
    id: `doc-${pad(j)}`,
    status: rnd() < 0.9 ? 'current' : 'superseded',
    type: { coding: [{ system: 'http://loinc.org', code: DOC_TYPES[Math.floor(rnd() * DOC_TYPES.length)] }] },
    subject: { reference: `Patient/${patientId(patient)}` },
    date,
    author: [{ reference: `Practitioner/prac-${Math.floor(rnd() * PRACTITIONERS)}` }],
    content: [{ attachment: { contentType: 'text/plain', url: `http://example.org/docs/${j}` } }],
  };
}

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** The three kinds of privacy choice the population makes. */
function consentChoice(rnd: () => number): { rule: string; provision: ConsentProvision } {
  const kind = rnd();
  if (kind < 0.5) {
    // Opt in, except for one clinician.
    const blocked = `Practitioner/prac-${Math.floor(rnd() * PRACTITIONERS)}`;
    return {
      rule: 'OPTIN',
      provision: {
        type: 'permit',
        provision: [{ type: 'deny', actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: blocked } }] }],
      },
    };
  }
  if (kind < 0.8) {
    // Opt in, but no research use of documents.
    return {
      rule: 'OPTIN',
      provision: { type: 'permit', provision: [{ type: 'deny', purpose: [{ system: ACT_REASON, code: 'HRESCH' }], class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'DocumentReference' }] }] },
    };
  }
  // Opt out of everything but treatment.
  return { rule: 'OPTOUT', provision: { type: 'deny', provision: [{ type: 'permit', purpose: [{ system: ACT_REASON, code: 'TREAT' }] }] } };
}

export function makeConsent(k: number, patient: number, rnd: () => number): Consent {
  const choice = consentChoice(rnd);
  return {
    resourceType: 'Consent',
    id: `consent-${pad(k)}`,
    status: rnd() < 0.9 ? 'active' : 'inactive',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId(patient)}` },
    dateTime: instant(rnd),
    policyRule: { coding: [{ system: ACT_CODE, code: choice.rule }] },
    provision: choice.provision,
  };
}

/** What a clinician did to a patient's records, as the BALP RESTful interaction code. */
const INTERACTIONS = [
  { subtype: 'read', action: 'R' },
  { subtype: 'search-type', action: 'E' },
  { subtype: 'create', action: 'C' },
  { subtype: 'update', action: 'U' },
] as const;

export function makeAuditEvent(k: number, patient: number, rnd: () => number): AuditEvent {
  const interaction = INTERACTIONS[Math.floor(rnd() * INTERACTIONS.length)];
  const clinician = `Practitioner/prac-${Math.floor(rnd() * PRACTITIONERS)}`;
  return {
    resourceType: 'AuditEvent',
    id: `audit-${pad(k)}`,
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: interaction.subtype, display: interaction.subtype }],
    action: interaction.action,
    recorded: instant(rnd),
    outcome: rnd() < 0.97 ? '0' : '4',
    agent: [{ who: { reference: clinician }, requestor: true }],
    source: {
      observer: { display: 'Synthetic records system' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      {
        what: { reference: `Patient/${patientId(patient)}` },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      },
    ],
  };
}

/**
 * The population, type by type (patients, documents, consents, audit events). Patients and
 * documents come first and draw from the generator as they always did, so adding consents or
 * audit events leaves them as they were.
 */
export function* population(size: DataSize, seed = DEFAULT_SEED): Generator<Resource> {
  const rnd = random(seed);
  const anyPatient = () => Math.floor(rnd() * size.patients);
  for (let i = 0; i < size.patients; i++) yield makePatient(i, rnd);
  for (let j = 0; j < size.documents; j++) yield makeDocument(j, anyPatient(), rnd);
  for (let k = 0; k < (size.consents ?? 0); k++) yield makeConsent(k, anyPatient(), rnd);
  for (let k = 0; k < (size.auditEvents ?? 0); k++) yield makeAuditEvent(k, anyPatient(), rnd);
}
