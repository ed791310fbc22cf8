import { randomUUID } from 'node:crypto';
import type { TestServer } from './server.js';
import { FHIR_JSON_HEADERS } from './server.js';

/** POST [base] with a Bundle of the given type and entries. */
export function postBundle(s: TestServer, type: 'batch' | 'transaction', entry: unknown[], headers: Record<string, string> = {}) {
  return s.request({ method: 'POST', url: s.base, headers: { ...FHIR_JSON_HEADERS, ...headers }, payload: { resourceType: 'Bundle', type, entry } });
}

export const urn = () => `urn:uuid:${randomUUID()}`;

/** A create entry with a urn:uuid fullUrl. */
export function createEntry(resource: Record<string, unknown>, fullUrl = urn(), extra: Record<string, unknown> = {}) {
  return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ...extra } };
}

/** A discharge: a patient, documents (the later ones appending to the first) and an AuditEvent, all linked through urn:uuid references. */
export function dischargeEntries(documents = 3) {
  const patientUrl = urn();
  const firstDocUrl = urn();
  const patient = createEntry({ resourceType: 'Patient', name: [{ family: 'Discharged' }], identifier: [{ system: 'http://hospital.test/mrn', value: randomUUID() }] }, patientUrl);
  const docs = Array.from({ length: documents }, (_, i) =>
    createEntry(
      {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: patientUrl },
        ...(i > 0 ? { relatesTo: [{ code: 'appends', target: { reference: firstDocUrl } }] } : {}),
        content: [{ attachment: { contentType: 'text/plain', url: i > 0 ? firstDocUrl : 'http://files.test/discharge.txt', title: `note ${i}` } }],
        text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">Note for <a href="${patientUrl}">the patient</a></div>` },
      },
      i === 0 ? firstDocUrl : urn(),
    ),
  );
  const audit = createEntry({
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    recorded: new Date().toISOString(),
    agent: [{ requestor: true, who: { display: 'EHR discharge workflow' } }],
    source: { observer: { display: 'EHR' } },
    entity: [{ what: { reference: patientUrl } }],
  });
  return { patientUrl, firstDocUrl, entries: [patient, ...docs, audit] };
}
