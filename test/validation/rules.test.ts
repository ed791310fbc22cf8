import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, summary, warnings } from '../helpers/validation.js';

t.test('cardinality, bindings, invariants and references of the base R4 definitions', async (t) => {
  const s = await startTestServer(t);

  t.test('cardinality: a nested required element', async (t) => {
    const ok = await create(s, { resourceType: 'Patient', link: [{ other: { reference: 'Patient/2' }, type: 'seealso' }] });
    t.equal(ok.status, 201);
    const { status, issues } = await create(s, { resourceType: 'Patient', link: [{ type: 'seealso' }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error required Patient.link[0].other']);
  });

  t.test('cardinality: a required top-level element', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'DocumentReference', content: [{ attachment: { url: 'Binary/1' } }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error required DocumentReference.status']);
  });

  t.test('cardinality: two types of one choice element exceed max 1', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020' });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.deceased']);
  });

  const required: Array<[string, any, string]> = [
    ['Patient.gender', { resourceType: 'Patient', gender: 'M' }, 'Patient.gender'],
    ['DocumentReference.status', { resourceType: 'DocumentReference', status: 'final', content: [{ attachment: { url: 'Binary/1' } }] }, 'DocumentReference.status'],
    ['Consent.status', { resourceType: 'Consent', status: 'signed', scope: { text: 'x' }, category: [{ text: 'x' }], policyRule: { text: 'x' } }, 'Consent.status'],
    ['AuditEvent.action', { resourceType: 'AuditEvent', type: { code: 'rest' }, action: 'X', recorded: '2020-01-01T00:00:00Z', agent: [{ requestor: true, who: { display: 'a' } }], source: { observer: { display: 'b' } } }, 'AuditEvent.action'],
  ];
  for (const [name, resource, expression] of required) {
    t.test(`required binding: ${name} outside its value set is an error`, async (t) => {
      const { status, issues } = await create(s, resource);
      t.equal(status, 422);
      t.same(summary(errors(issues)), [`error code-invalid ${expression}`]);
    });
  }

  t.test('required binding on a nested code: Consent.provision.type', async (t) => {
    const consent = { resourceType: 'Consent', status: 'active', category: [{ text: 'x' }], policyRule: { text: 'x' } };
    const required = await create(s, { ...consent, scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] }, provision: { type: 'allow' } });
    t.same(summary(errors(required.issues)), ['error code-invalid Consent.provision.type']);
    const good = await create(s, { ...consent, scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] }, provision: { type: 'permit' } });
    t.equal(good.status, 201);
  });

  t.test('extensible binding outside its value set is a warning, not an error', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', maritalStatus: { coding: [{ system: 'http://example.org/marital', code: 'xx' }] } });
    t.equal(status, 201);
    t.same(summary(issues.filter((i) => i.code === 'code-invalid')), ['warning code-invalid Patient.maritalStatus']);
  });

  t.test('invariant pat-1 on a backbone element', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', contact: [{ gender: 'female' }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error invariant Patient.contact[0]']);
    t.match(errors(issues)[0].diagnostics, /^pat-1:/);
  });

  t.test('invariant per-1 on a data type', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', name: [{ family: 'X', period: { start: '2020-02-01', end: '2020-01-01' } }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error invariant Patient.name[0].period']);
  });

  t.test('invariants dom-2 and dom-3 on contained resources', async (t) => {
    const nested = await create(s, {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'A', contained: [{ resourceType: 'Organization', id: 'o2', name: 'B' }] }],
      managingOrganization: { reference: '#o1' },
    });
    t.ok(errors(nested.issues).some((i) => i.diagnostics?.startsWith('dom-2:') && i.expression?.[0] === 'Patient'));
    const unreferenced = await create(s, { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o1', name: 'A' }] });
    t.same(summary(errors(unreferenced.issues)), ['error invariant Patient']);
    t.match(errors(unreferenced.issues)[0].diagnostics, /^dom-3:/);
  });

  t.test('invariant ppc-1 of Consent: a policy or a policy rule', async (t) => {
    const { status, issues } = await create(s, {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
      category: [{ text: 'x' }],
    });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error invariant Consent']);
    t.match(errors(issues)[0].diagnostics, /^ppc-1:/);
  });

  t.test('a warning invariant (dom-6, no narrative) gives a warning only', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', active: true });
    t.equal(status, 201);
    t.same(summary(warnings(issues)), ['warning invariant Patient']);
  });

  const references: Array<[string, string, number]> = [
    ['Type/id', 'Organization/acme-1', 201],
    ['a version-specific Type/id', 'Organization/acme-1/_history/2', 201],
    ['an absolute URL', 'https://other.example.org/fhir/Organization/9', 201],
    ['urn:uuid:', 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', 201],
    ['a bare id', 'acme-1', 422],
    ['an unknown type', 'Organisation/acme-1', 422],
  ];
  for (const [name, reference, expected] of references) {
    t.test(`reference format: ${name}`, async (t) => {
      const { status, issues } = await create(s, { resourceType: 'Patient', managingOrganization: { reference } });
      t.equal(status, expected);
      if (expected !== 422) return;
      t.same(summary(errors(issues)), ['error value Patient.managingOrganization.reference']);
      // No server could resolve it, so a write refuses it; general validation ($validate without mode) only warns.
      const report = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient', managingOrganization: { reference } } });
      t.same(summary(errors(s.json(report).issue)), []);
      t.same(summary(warnings(s.json(report).issue)).filter((i) => i.includes('managingOrganization')), ['warning value Patient.managingOrganization.reference']);
    });
  }

  t.test('reference to a #contained resource', async (t) => {
    const { status } = await create(s, { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o1', name: 'A' }], managingOrganization: { reference: '#o1' } });
    t.equal(status, 201);
  });

  t.test('ref-1: a #id reference must name a contained resource', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', managingOrganization: { reference: '#missing' } });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error invariant Patient.managingOrganization']);
    t.match(errors(issues)[0].diagnostics, /^ref-1:/);
  });

  t.test('reference target type must be allowed by targetProfile', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', generalPractitioner: [{ reference: 'Practitioner/1' }, { reference: 'Patient/2' }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error value Patient.generalPractitioner[1].reference']);
  });
});

t.test('extensions are checked against their definitions when known', async (t) => {
  const s = await startTestServer(t);
  const birthTime = (value: object) => ({
    resourceType: 'Patient',
    birthDate: '1974-12-25',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', ...value }] },
  });
  t.equal((await create(s, birthTime({ valueDateTime: '1974-12-25T14:35:45-05:00' }))).status, 201);
  const wrongType = await create(s, birthTime({ valueString: 'half past two' }));
  t.equal(wrongType.status, 422);
  t.same(summary(errors(wrongType.issues)), [
    'error structure Patient.birthDate.extension[0].valueString',
    'error required Patient.birthDate.extension[0].value',
  ]);
  const unknown = await create(s, { resourceType: 'Patient', extension: [{ url: 'http://example.org/fhir/favourite-colour', valueString: 'blue' }] });
  t.equal(unknown.status, 201, 'extensions nobody defined here are allowed');
});
