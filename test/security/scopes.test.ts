import t from 'tap';
import { parseScopes } from '../../src/security/scopes.js';

const shape = (claim: unknown) =>
  parseScopes(claim).map((s) => ({ text: s.text, context: s.context, type: s.type, interactions: [...s.interactions].join(''), ...(s.query ? { query: s.query } : {}) }));

t.test('v1 read is r+s, write is c+u+d, * is everything', async (t) => {
  t.same(shape('patient/Observation.read user/Patient.write system/*.*'), [
    { text: 'patient/Observation.read', context: 'patient', type: 'Observation', interactions: 'rs' },
    { text: 'user/Patient.write', context: 'user', type: 'Patient', interactions: 'cud' },
    { text: 'system/*.*', context: 'system', type: '*', interactions: 'cruds' },
  ]);
});

t.test('v2 letters c r u d s are read in that order', async (t) => {
  t.same(shape('patient/*.rs user/Encounter.cruds system/Patient.c'), [
    { text: 'patient/*.rs', context: 'patient', type: '*', interactions: 'rs' },
    { text: 'user/Encounter.cruds', context: 'user', type: 'Encounter', interactions: 'cruds' },
    { text: 'system/Patient.c', context: 'system', type: 'Patient', interactions: 'c' },
  ]);
});

t.test('v2 letters out of order or unknown are skipped', async (t) => {
  t.same(shape('patient/Observation.sr patient/Observation.rx patient/Observation.rr patient/Observation.'), []);
});

t.test('a v2 query restriction is parsed into name/value pairs', async (t) => {
  t.same(shape('patient/DocumentReference.rs?category=http://loinc.org|LP173421-1'), [
    {
      text: 'patient/DocumentReference.rs?category=http://loinc.org|LP173421-1',
      context: 'patient',
      type: 'DocumentReference',
      interactions: 'rs',
      query: [['category', 'http://loinc.org|LP173421-1']],
    },
  ]);
  t.same(shape('user/Observation.rs?category=laboratory&status=final')[0].query, [
    ['category', 'laboratory'],
    ['status', 'final'],
  ]);
  t.same(shape('user/Observation.rs?code=http%3A%2F%2Floinc.org%7C1234-5')[0].query, [['code', 'http://loinc.org|1234-5']], 'percent-encoding is decoded');
});

t.test('a query restriction on a v1 scope, or an empty one, skips the scope rather than widening it', async (t) => {
  t.same(shape('patient/Observation.read?category=laboratory user/Observation.rs?'), []);
});

t.test('non-resource scopes are ignored', async (t) => {
  t.same(shape('openid fhirUser profile launch launch/patient offline_access online_access patient/Patient.rs'), [
    { text: 'patient/Patient.rs', context: 'patient', type: 'Patient', interactions: 'rs' },
  ]);
});

t.test('garbage scopes are skipped, not fatal', async (t) => {
  t.same(shape('  admin/Patient.read patient/patient.read patient/Patient Patient.read patient/*.rs/x ☃ '), []);
  t.same(shape(undefined), []);
  t.same(shape(42), []);
  t.same(shape({ scope: 'patient/*.rs' }), []);
});

t.test('an array of scope strings is accepted too', async (t) => {
  t.same(shape(['patient/Patient.rs', 7, 'openid']).map((s) => s.text), ['patient/Patient.rs']);
});

t.test('scopes for types the server does not store are kept as written', async (t) => {
  t.same(shape('patient/Immunization.rs').map((s) => s.type), ['Immunization']);
});
