import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { fixture, summary } from '../helpers/validation.js';

t.test('$validate', async (t) => {
  const s = await startTestServer(t);
  const validate = async (url: string, payload: unknown) => {
    const response = await s.request({ method: 'POST', url, headers: FHIR_JSON_HEADERS, payload: payload as object });
    return { status: response.statusCode, body: s.json(response) };
  };
  const count = async () => s.json(await s.request({ method: 'GET', url: '/fhir/Patient/_history' })).total;

  t.test('a bare valid resource: 200 with an OperationOutcome, nothing stored', async (t) => {
    const before = await count();
    const { status, body } = await validate('/fhir/Patient/$validate', fixture('patient-example.json'));
    t.equal(status, 200);
    t.equal(body.resourceType, 'OperationOutcome');
    t.same(body.issue.filter((i: any) => i.severity === 'error'), []);
    t.equal(await count(), before);
  });

  t.test('an invalid resource in Parameters: 200 with the errors', async (t) => {
    const { status, body } = await validate('/fhir/Patient/$validate', {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'unknown-ish', text: { status: 'empty', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } } }],
    });
    t.equal(status, 200);
    t.same(summary(body.issue), ['error code-invalid Patient.gender']);
  });

  t.test('the profile parameter validates against a named profile', async (t) => {
    const { meta: _, identifier: __, ...patient } = fixture('us-core-patient-example.json');
    const { status, body } = await validate('/fhir/Patient/$validate', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: patient },
        { name: 'profile', valueUri: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient' },
      ],
    });
    t.equal(status, 200);
    t.same(summary(body.issue), ['error required Patient.identifier']);
  });

  t.test('mode=update on an instance checks the id', async (t) => {
    const { body } = await validate('/fhir/Patient/other/$validate', {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: fixture('patient-example.json') }, { name: 'mode', valueCode: 'update' }],
    });
    t.same(summary(body.issue), ['error invalid Patient.id']);
  });

  t.test('mode=delete answers with information', async (t) => {
    const { status, body } = await validate('/fhir/Patient/example/$validate', {
      resourceType: 'Parameters',
      parameter: [{ name: 'mode', valueCode: 'delete' }],
    });
    t.equal(status, 200);
    t.same(summary(body.issue), ['information informational ']);
  });

  t.test('a resource of another type than the URL is reported', async (t) => {
    const { body } = await validate('/fhir/Patient/$validate', fixture('consent-example-notThis.json'));
    t.same(summary(body.issue.filter((i: any) => i.severity === 'error')), ['error invalid resourceType']);
  });

  t.test('the CapabilityStatement announces $validate', async (t) => {
    const metadata = s.json(await s.request({ method: 'GET', url: '/fhir/metadata' }));
    t.same(metadata.rest[0].operation, [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }]);
  });

  t.test('an unknown mode is a bad request', async (t) => {
    const { status } = await validate('/fhir/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'upsert' }] });
    t.equal(status, 400);
  });
});
