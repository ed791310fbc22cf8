import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';
import { create, errors, summary, warnings } from '../helpers/validation.js';

/** POST [type]/$validate: the issues of the report (the server stores nothing). */
async function validate(s: TestServer, resource: any) {
  const response = await s.request({ method: 'POST', url: `/fhir/${resource.resourceType}/$validate`, headers: FHIR_JSON_HEADERS, payload: resource });
  t.equal(response.statusCode, 200);
  return s.json(response).issue as any[];
}

const uuid = (n: number) => `urn:uuid:${String(n).repeat(8)}-${String(n).repeat(4)}-4${String(n).repeat(3)}-8${String(n).repeat(3)}-${String(n).repeat(12)}`;
const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };
const issuesAbout = (issues: any[], code: string) => summary(issues.filter((i) => i.code === code));

t.test('references through contained resources', async (t) => {
  const s = await startTestServer(t);

  t.test('#id must name a contained resource of an allowed target type', async (t) => {
    const wrong = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Practitioner', id: 'p1', name: [{ family: 'Wrong' }] }],
      managingOrganization: { reference: '#p1' },
    });
    t.equal(wrong.status, 422);
    t.same(summary(errors(wrong.issues)), ['error value Patient.managingOrganization.reference']);
    t.match(errors(wrong.issues)[0].diagnostics, /may refer to Organization, not to the contained "#p1", a Practitioner/);
    const right = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'Clinic' }],
      managingOrganization: { reference: '#o1' },
    });
    t.equal(right.status, 201);
  });

  t.test('#id naming no contained resource is ref-1', async (t) => {
    const missing = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'Clinic' }],
      managingOrganization: { reference: '#o2' },
      generalPractitioner: [{ reference: '#o1' }],
    });
    t.equal(missing.status, 422);
    t.ok(errors(missing.issues).some((i) => i.diagnostics?.startsWith('ref-1:') && i.expression?.[0] === 'Patient.managingOrganization'));
  });

  t.test('dom-2: a contained resource holds no contained resources', async (t) => {
    const nested = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'A', contained: [{ resourceType: 'Organization', id: 'o2', name: 'B' }] }],
      managingOrganization: { reference: '#o1' },
    });
    t.equal(nested.status, 422);
    t.ok(errors(nested.issues).some((i) => i.diagnostics?.startsWith('dom-2:')));
  });

  t.test('dom-4: a contained resource has no meta.versionId or meta.lastUpdated', async (t) => {
    for (const meta of [{ versionId: '1' }, { lastUpdated: '2024-01-01T00:00:00Z' }]) {
      const { status, issues } = await create(s, {
        resourceType: 'Patient',
        contained: [{ resourceType: 'Organization', id: 'o1', name: 'A', meta }],
        managingOrganization: { reference: '#o1' },
      });
      t.equal(status, 422);
      t.same(errors(issues).map((i) => i.diagnostics?.slice(0, 6)), ['dom-4:'], JSON.stringify(meta));
    }
    const tagged = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'A', meta: { tag: [{ code: 'x' }] } }],
      managingOrganization: { reference: '#o1' },
    });
    t.equal(tagged.status, 201, 'other meta is allowed');
  });

  t.test('dom-5: a contained resource has no security labels', async (t) => {
    const labelled = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'A', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } }],
      managingOrganization: { reference: '#o1' },
    });
    t.equal(labelled.status, 422);
    t.same(errors(labelled.issues).map((i) => i.diagnostics?.slice(0, 6)), ['dom-5:']);
    const container = await create(s, {
      resourceType: 'Patient',
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] },
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'A' }],
      managingOrganization: { reference: '#o1' },
    });
    t.equal(container.status, 201, 'the container may carry labels');
  });
});

t.test('references inside a Bundle resolve against its entries\' fullUrls', async (t) => {
  const s = await startTestServer(t);
  const collection = (target: any, reference = uuid(1)) => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: uuid(1), resource: target },
      { fullUrl: uuid(2), resource: { resourceType: 'Patient', text: narrative, managingOrganization: { reference } } },
    ],
  });

  t.test('$validate takes any R4 type, stored or not, and no other', async (t) => {
    const unknown = await s.request({ method: 'POST', url: '/fhir/Nonsense/$validate', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Nonsense' } });
    t.equal(unknown.statusCode, 404);
    t.same(errors(await validate(s, { resourceType: 'Practitioner', text: narrative })), []);
  });

  t.test('a urn:uuid reference to an entry of a wrong type is an error', async (t) => {
    const issues = await validate(s, collection({ resourceType: 'Practitioner', text: narrative }));
    t.same(summary(errors(issues)), ['error value Bundle.entry[1].resource.managingOrganization.reference']);
    t.match(errors(issues)[0].diagnostics, /not to the bundle entry it names, a Practitioner/);
    const right = await validate(s, collection({ resourceType: 'Organization', text: narrative, name: 'Clinic' }));
    t.same(errors(right), []);
  });

  t.test('an absolute fullUrl without a type in it is resolved too', async (t) => {
    const url = 'http://other.example/things/abc';
    const bundle = collection({ resourceType: 'Practitioner', text: narrative }, url);
    bundle.entry[0].fullUrl = url;
    t.same(summary(errors(await validate(s, bundle))), ['error value Bundle.entry[1].resource.managingOrganization.reference']);
  });

  t.test('a urn:uuid that is no entry\'s fullUrl is a warning', async (t) => {
    const issues = await validate(s, collection({ resourceType: 'Organization', text: narrative, name: 'Clinic' }, uuid(3)));
    t.same(errors(issues), []);
    t.same(issuesAbout(warnings(issues), 'not-found'), ['warning not-found Bundle.entry[1].resource.managingOrganization.reference']);
  });

  t.test('#id in an entry resolves in that entry\'s own contained resources', async (t) => {
    const patient = {
      resourceType: 'Patient',
      text: narrative,
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'Clinic' }],
      managingOrganization: { reference: '#o1' },
    };
    const issues = await validate(s, { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: uuid(1), resource: patient }] });
    t.same(errors(issues), []);
    const wrong = { ...patient, contained: [{ resourceType: 'Practitioner', id: 'o1' }] };
    const bad = await validate(s, { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: uuid(1), resource: wrong }] });
    t.same(summary(errors(bad)), ['error value Bundle.entry[0].resource.managingOrganization.reference']);
  });

  t.test('a conditional reference is allowed in a transaction Bundle, not elsewhere', async (t) => {
    const entry = {
      fullUrl: uuid(1),
      resource: { resourceType: 'Patient', text: narrative, link: [{ type: 'seealso', other: { reference: 'Patient?identifier=http://x|1' } }] },
      request: { method: 'POST', url: 'Patient' },
    };
    t.same(errors(await validate(s, { resourceType: 'Bundle', type: 'transaction', entry: [entry] })), []);
    const wrongType = { ...entry, resource: { ...entry.resource, link: [{ type: 'seealso', other: { reference: 'Consent?identifier=1' } }] } };
    t.same(summary(errors(await validate(s, { resourceType: 'Bundle', type: 'transaction', entry: [wrongType] }))), [
      'error value Bundle.entry[0].resource.link[0].other.reference',
    ]);
    const outside = await create(s, entry.resource);
    t.same(summary(errors(outside.issues)), ['error value Patient.link[0].other.reference']);
  });

  t.test('a transaction\'s urn:uuid references are checked once resolved to the entries they name', async (t) => {
    const post = (entries: any[]) =>
      s.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Bundle', type: 'transaction', entry: entries } });
    const document = {
      fullUrl: uuid(1),
      resource: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { url: 'Binary/1' } }] },
      request: { method: 'POST', url: 'DocumentReference' },
    };
    const pointing = (reference: string) => ({
      fullUrl: uuid(2),
      resource: { resourceType: 'Patient', link: [{ type: 'seealso', other: { reference } }] },
      request: { method: 'POST', url: 'Patient' },
    });
    const wrong = await post([document, pointing(uuid(1))]);
    t.equal(wrong.statusCode, 422);
    t.match(s.json(wrong).issue.map((i: any) => i.diagnostics).join('\n'), /may refer to Patient, RelatedPerson, not to a DocumentReference/);
    const other = { ...pointing(uuid(2)), fullUrl: uuid(3), resource: { resourceType: 'Patient' } };
    const right = await post([other, pointing(uuid(3))]);
    t.equal(right.statusCode, 200);
  });
});

t.test('AuditEvent.source.observer: the R4 target types only (Medplum\'s Bot and ClientApplication are not R4)', async (t) => {
  const s = await startTestServer(t);
  const audit = (reference: string) => ({
    resourceType: 'AuditEvent',
    text: narrative,
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
    recorded: '2024-01-01T00:00:00Z',
    agent: [{ requestor: true, who: { reference: 'Practitioner/dr-1' } }],
    source: { observer: { reference } },
  });
  const wrong = await validate(s, audit('Consent/c1'));
  t.same(issuesAbout(errors(wrong), 'value'), ['error value AuditEvent.source.observer.reference']);
  t.match(errors(wrong)[0].diagnostics, /may refer to PractitionerRole, Practitioner, Organization, Device, Patient, RelatedPerson.*not to a Consent/);
  t.same(errors(await validate(s, audit('Device/d1'))), []);
});

t.test('a reference no FHIR server could resolve: a warning for $validate without mode, refused by every write', async (t) => {
  const s = await startTestServer(t);
  const withGp = (reference: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', text: narrative, generalPractitioner: [{ reference }], ...extra });
  const at = 'Patient.generalPractitioner[0].reference';
  const stored = async () => s.db.collection('Patient').countDocuments({});
  const withMode = (resource: any, mode: string) => ({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource }, { name: 'mode', valueCode: mode }] });

  t.test('$validate without mode: 200, a warning at the reference naming the forms to use, no error', async (t) => {
    for (const reference of ['patient/p1', 'Patient/', '/Practitioner/p1', 'Organisation/o1', 'acme-1']) {
      const issues = await validate(s, withGp(reference));
      t.same(errors(issues), [], reference);
      t.same(issuesAbout(warnings(issues), 'value'), [`warning value ${at}`], reference);
      t.match(warnings(issues)[0].diagnostics, /cannot be resolved on a FHIR server.*use Type\/id, an absolute URL, #id or urn:uuid:/, reference);
    }
  });

  t.test('$validate with mode=create or mode=update: the error a write gets', async (t) => {
    const create = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: withMode(withGp('patient/p1'), 'create') });
    t.equal(create.statusCode, 200);
    t.same(summary(errors(s.json(create).issue)), [`error value ${at}`]);
    const update = await s.request({ method: 'POST', url: '/fhir/Patient/p9/$validate', headers: FHIR_JSON_HEADERS, payload: withMode(withGp('Patient/', { id: 'p9' }), 'update') });
    t.same(summary(errors(s.json(update).issue)), [`error value ${at}`]);
  });

  t.test('still errors without mode: white space, and a type read from /Patient/p1 the element does not allow', async (t) => {
    t.same(summary(errors(await validate(s, withGp('Practitioner/has space')))), [`error value ${at}`]);
    const hostRoot = await validate(s, withGp('/Patient/p1'));
    t.same(summary(errors(hostRoot)), [`error value ${at}`]);
    t.match(errors(hostRoot)[0].diagnostics, /may refer to .*Practitioner.*, not to a Patient/);
  });

  t.test('create, update, conditional create and PATCH refuse it with 422 and store nothing', async (t) => {
    const before = await stored();
    const post = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: withGp('patient/p1') });
    t.equal(post.statusCode, 422);
    t.same(summary(errors(s.json(post).issue)), [`error value ${at}`]);
    const put = await s.request({ method: 'PUT', url: '/fhir/Patient/ref-put', headers: FHIR_JSON_HEADERS, payload: withGp('patient/p1', { id: 'ref-put' }) });
    t.equal(put.statusCode, 422);
    const conditional = await s.request({
      method: 'POST',
      url: '/fhir/Patient',
      headers: { ...FHIR_JSON_HEADERS, 'if-none-exist': 'identifier=http://x|nobody' },
      payload: withGp('/Practitioner/p1'),
    });
    t.equal(conditional.statusCode, 422);
    t.equal(await stored(), before, 'nothing stored');

    const good = await s.request({ method: 'PUT', url: '/fhir/Patient/ref-patch', headers: FHIR_JSON_HEADERS, payload: withGp('Practitioner/p1', { id: 'ref-patch' }) });
    t.equal(good.statusCode, 201);
    const patch = await s.request({
      method: 'PATCH',
      url: '/fhir/Patient/ref-patch',
      headers: { 'content-type': 'application/json-patch+json' },
      payload: JSON.stringify([{ op: 'replace', path: '/generalPractitioner/0/reference', value: 'practitioner/p1' }]),
    });
    t.equal(patch.statusCode, 422);
    const current = s.json(await s.request({ method: 'GET', url: '/fhir/Patient/ref-patch' }));
    t.equal(current.meta.versionId, '1');
    t.equal(current.generalPractitioner[0].reference, 'Practitioner/p1');
  });

  t.test('a transaction with such an entry is refused (422, nothing stored); in a batch that entry is 422', async (t) => {
    const before = await stored();
    const entries = [
      { fullUrl: uuid(1), resource: withGp('Practitioner/p1'), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: uuid(2), resource: withGp('patient/p1'), request: { method: 'POST', url: 'Patient' } },
    ];
    const transaction = await s.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Bundle', type: 'transaction', entry: entries } });
    t.equal(transaction.statusCode, 422);
    t.match(JSON.stringify(s.json(transaction).issue), /cannot be resolved on a FHIR server/);
    t.equal(await stored(), before, 'nothing stored');
    const batch = await s.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Bundle', type: 'batch', entry: entries } });
    t.equal(batch.statusCode, 200);
    t.same(s.json(batch).entry.map((e: any) => e.response.status), ['201 Created', '422 Unprocessable Entity']);
  });
});
