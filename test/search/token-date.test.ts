import t from 'tap';
import { createAll, matchIds } from '../helpers/search.js';
import { startTestServer } from '../helpers/server.js';

t.test('token parameters', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Patient', id: 'a', active: true, gender: 'female',
      identifier: [{ system: 'urn:mrn', value: '123', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'Medical record' } }],
      telecom: [{ system: 'email', value: 'a@example.org' }] },
    { resourceType: 'Patient', id: 'b', active: false, gender: 'male', identifier: [{ value: '123' }] },
    { resourceType: 'Patient', id: 'c', identifier: [{ system: 'urn:other', value: '999' }] },
  ]);
  t.same(await matchIds(s, 'Patient?identifier=123'), ['a', 'b'], 'code alone: any system');
  t.same(await matchIds(s, 'Patient?identifier=urn:mrn|123'), ['a'], 'system|code');
  t.same(await matchIds(s, 'Patient?identifier=|123'), ['b'], '|code: no system');
  t.same(await matchIds(s, 'Patient?identifier=urn:other|'), ['c'], 'system|');
  t.same(await matchIds(s, 'Patient?active=true'), ['a'], 'boolean');
  t.same(await matchIds(s, 'Patient?gender:not=male'), ['a', 'c'], ':not includes resources without a value');
  t.same(await matchIds(s, 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123'), ['a']);
  t.same(await matchIds(s, 'Patient?identifier:text=medical'), ['a']);
  t.same(await matchIds(s, 'Patient?email=a@example.org'), ['a'], 'ContactPoint');
  t.same(await matchIds(s, 'Patient?phone=a@example.org'), [], 'phone only holds phone ContactPoints');
  t.same(await matchIds(s, 'Patient?_id=a,c'), ['a', 'c']);
  t.same(await matchIds(s, 'Patient?gender:missing=true'), ['c']);
  const bad = await s.request({ method: 'GET', url: '/fhir/Patient?identifier:of-type=MR|123' });
  t.equal(bad.statusCode, 400, 'malformed :of-type is 400');
});

t.test('date parameters use the precision of value and query', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Patient', id: 'y1980', birthDate: '1980' },
    { resourceType: 'Patient', id: 'd19800315', birthDate: '1980-03-15' },
    { resourceType: 'Patient', id: 'd19801231', birthDate: '1980-12-31' },
    { resourceType: 'Patient', id: 'd1981', birthDate: '1981-01-01' },
    { resourceType: 'Patient', id: 'nobirth' },
  ]);
  t.same(await matchIds(s, 'Patient?birthdate=1980'), ['d19800315', 'd19801231', 'y1980'], 'eq: within the year');
  t.same(await matchIds(s, 'Patient?birthdate=1980-03'), ['d19800315'], 'eq month: the year-precision value is wider, so it does not match');
  t.same(await matchIds(s, 'Patient?birthdate=1980-03-15'), ['d19800315']);
  t.same(await matchIds(s, 'Patient?birthdate=ge1980-12-31'), ['d19801231', 'd1981', 'y1980'], 'ge: the year 1980 reaches 1980-12-31');
  t.same(await matchIds(s, 'Patient?birthdate=gt1980-12-31'), ['d1981']);
  t.same(await matchIds(s, 'Patient?birthdate=lt1980-03-15'), ['y1980']);
  t.same(await matchIds(s, 'Patient?birthdate=le1980-03-15'), ['d19800315', 'y1980']);
  t.same(await matchIds(s, 'Patient?birthdate=sa1980-06'), ['d19801231', 'd1981']);
  t.same(await matchIds(s, 'Patient?birthdate=eb1980-06'), ['d19800315']);
  t.same(await matchIds(s, 'Patient?birthdate=ne1980'), ['d1981']);
  t.same(await matchIds(s, 'Patient?birthdate=ge1980-01-01&birthdate=lt1981'), ['d19800315', 'd19801231', 'y1980'], 'range by AND');
  const near = await matchIds(s, 'Patient?birthdate=ap1980-03-14');
  t.ok(near.includes('d19800315') && !near.includes('nobirth'), 'ap: near the value');
  t.same(await matchIds(s, 'Patient?birthdate:missing=true'), ['nobirth']);
  for (const bad of ['1980-13', 'xx1980', 'gt1980-02-30', 'tomorrow']) {
    const r = await s.request({ method: 'GET', url: `/fhir/Patient?birthdate=${bad}` });
    t.equal(r.statusCode, 400, `${bad} is 400`);
    t.match(r.body, /birthdate/, 'the error names the parameter');
  }
});

t.test('Period', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Consent', id: 'two', status: 'active', scope: { text: 'x' }, category: [{ text: 'x' }], policyRule: { text: 'opt-in' },
      provision: { period: { start: '2020-01-01', end: '2020-01-31' }, provision: [{ period: { start: '2020-06-01', end: '2020-06-30' } }] } },
    { resourceType: 'Consent', id: 'open', status: 'active', scope: { text: 'x' }, category: [{ text: 'x' }], policyRule: { text: 'opt-in' }, provision: { period: { start: '2021-01-01' } } },
  ]);
  t.same(await matchIds(s, 'Consent?period=2020-01-15'), [], 'eq needs the period inside the query day');
  t.same(await matchIds(s, 'Consent?period=2020-01'), ['two'], 'eq: the period lies in January');
  t.same(await matchIds(s, 'Consent?period=2020-03'), []);
  t.same(await matchIds(s, 'Consent?period=ge2030-01-01'), ['open'], 'an open end reaches into the future');
});
