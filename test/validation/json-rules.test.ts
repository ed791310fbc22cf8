import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, fixture, summary, warnings } from '../helpers/validation.js';

/** The JSON representation rules of R4 (json.html), through create, update and $validate. */
t.test('FHIR JSON representation rules', async (t) => {
  const s = await startTestServer(t);
  const ext = { extension: [{ url: 'http://example.org/x', valueString: 'B' }] };
  const post = async (text: string, url = '/fhir/Patient', method: 'POST' | 'PUT' = 'POST') => {
    const response = await s.request({ method, url, headers: { ...FHIR_JSON_HEADERS, prefer: 'return=OperationOutcome' }, payload: text });
    return { status: response.statusCode, issues: (s.json(response).issue ?? []) as any[] };
  };

  t.test('an empty array is refused with the element to leave out', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', name: [] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.name']);
    t.match(errors(issues)[0].diagnostics, /empty array is not allowed: leave "name" out/);
  });

  t.test('an empty "_x" array is refused too', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', name: [{ family: 'X', given: ['A'], _given: [] }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.name[0].given', 'error structure Patient.name[0].given']);
    t.match(errors(issues)[0].diagnostics, /leave "_given" out/);
  });

  t.test('an empty object is refused, as element and as "_x"', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', maritalStatus: {}, birthDate: '1970', _birthDate: {} });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.maritalStatus', 'error structure Patient.birthDate']);
    t.match(errors(issues)[0].diagnostics, /empty object is not allowed/);
  });

  t.test('null is refused as a value, for an element and for its "_x"', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', gender: null, birthDate: '1970', _birthDate: null });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.gender', 'error structure Patient.birthDate']);
    t.match(errors(issues)[0].diagnostics, /null is not a FHIR value: leave "gender" out/);
    t.match(errors(issues)[1].diagnostics, /leave "_birthDate" out/);
  });

  t.test('null in an array of objects is refused', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', name: [{ family: 'X' }, null] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.name[1]']);
  });

  t.test('null aligns a primitive array with its "_x" array, and only then', async (t) => {
    const ok = await create(s, { resourceType: 'Patient', name: [{ given: ['A', null, 'C'], _given: [null, ext, null] }] });
    t.equal(ok.status, 201);
    const bad = await create(s, { resourceType: 'Patient', name: [{ given: ['A', null] }] });
    t.equal(bad.status, 422);
    t.same(summary(errors(bad.issues)), ['error structure Patient.name[0].given[1]']);
  });

  t.test('"_x" arrays must have the length of their values', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: [ext] }] });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.name[0].given']);
  });

  t.test('"_x" without its value needs extensions: an id alone breaks ele-1', async (t) => {
    const ok = await create(s, { resourceType: 'Patient', _birthDate: ext });
    t.equal(ok.status, 201);
    const bad = await create(s, { resourceType: 'Patient', _birthDate: { id: 'b1' } });
    t.equal(bad.status, 422);
    t.same(summary(errors(bad.issues)), ['error invariant Patient.birthDate']);
  });

  t.test('"_x" holds only id and extension', async (t) => {
    const { status, issues } = await create(s, { resourceType: 'Patient', birthDate: '1970', _birthDate: { value: '1970' } });
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.birthDate.value']);
  });

  t.test('an empty string is refused; a whitespace-only one is a warning (as HL7 validator says)', async (t) => {
    const empty = await create(s, { resourceType: 'Patient', name: [{ family: '' }] });
    t.equal(empty.status, 422);
    t.same(summary(errors(empty.issues)), ['error value Patient.name[0].family']);
    const blank = await create(s, { resourceType: 'Patient', name: [{ family: '   ' }] });
    t.equal(blank.status, 201);
    t.same(summary(warnings(blank.issues).filter((i) => i.code === 'value')), ['warning value Patient.name[0].family']);
  });

  t.test('a member name repeated in an object is refused where it is, although JSON.parse would keep the last', async (t) => {
    const { status, issues } = await post('{"resourceType":"Patient","gender":"male","name":[{"family":"A","family":"B"}],"gender":"female"}');
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.name[0].family', 'error structure Patient.gender']);
    t.match(errors(issues)[1].diagnostics, /"gender" appears more than once/);
  });

  t.test('a repeated member name is refused on update too', async (t) => {
    const { status, issues } = await post('{"resourceType":"Patient","id":"twice","active":true,"active":false}', '/fhir/Patient/twice', 'PUT');
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error structure Patient.active']);
  });

  t.test('a repeated member name inside a transaction entry is reported at the entry', async (t) => {
    const body = '{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0b1c2a3e-1111-4a4a-8b8b-000000000001",'
      + '"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","gender":"male","gender":"male"}}]}';
    const response = await s.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: body });
    t.equal(response.statusCode, 422);
    t.match(JSON.stringify(s.json(response)), /"gender\\" appears more than once/);
  });

  t.test('escaped quotes, backslashes and colons in strings neither fake a repeated name nor hide one', async (t) => {
    const tricky = String.raw`"name":[{"family":"O\"Brien\\","given":["\":\"gender\":", "a\\\"b"]}]`;
    const clean = await post(`{"resourceType":"Patient",${tricky},"gender":"male"}`);
    t.same(errors(clean.issues), []);
    t.equal(clean.status, 201);
    const twice = await post(`{"resourceType":"Patient",${tricky},"gender":"male","gender":"male"}`);
    t.equal(twice.status, 422);
    t.same(summary(errors(twice.issues)), ['error structure Patient.gender']);
  });

  t.test('$validate reports a repeated name in its 200 report', async (t) => {
    const response = await s.request({
      method: 'POST',
      url: '/fhir/Patient/$validate',
      headers: FHIR_JSON_HEADERS,
      payload: '{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","birthDate":"1970","birthDate":"1971"}}]}',
    });
    t.equal(response.statusCode, 200);
    t.same(summary(errors(s.json(response).issue)), ['error structure Patient.birthDate']);
  });

  t.test('$validate reports the other JSON rules as well', async (t) => {
    const response = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient', name: [], gender: null } });
    t.equal(response.statusCode, 200);
    t.same(summary(errors(s.json(response).issue)), ['error structure Patient.name', 'error structure Patient.gender']);
  });

  t.test('a JSON Patch document with a repeated member name is a bad request', async (t) => {
    const stored = await s.request({ method: 'PUT', url: '/fhir/Patient/patched', headers: FHIR_JSON_HEADERS, payload: { ...fixture<object>('patient-example.json'), id: 'patched' } });
    t.equal(stored.statusCode, 201);
    const response = await s.request({
      method: 'PATCH',
      url: '/fhir/Patient/patched',
      headers: { 'content-type': 'application/json-patch+json' },
      payload: '[{"op":"replace","path":"/gender","value":"female","value":"male"}]',
    });
    t.equal(response.statusCode, 400);
    t.match(s.json(response).issue[0].diagnostics, /"value" appears twice/);
  });

  t.test('unparseable JSON is still a bad request', async (t) => {
    const { status } = await post('{"resourceType":"Patient",');
    t.equal(status, 400);
  });
});
