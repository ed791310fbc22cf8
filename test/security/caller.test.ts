import t from 'tap';
import type { Caller } from '../../src/security/context.js';
import { startTestServer } from '../helpers/server.js';
import { testIssuer } from '../helpers/tokens.js';

const issuer = await testIssuer();
const server = await startTestServer(t, { env: { ...issuer.env } });
// A probe route added for the test only: it shows request.ctx.caller as the hook left it.
server.app.get('/fhir/_test/caller', async (request) => {
  const caller: Caller = request.ctx.caller;
  return { ...caller, scopes: caller.scopes.map((s) => ({ ...s, interactions: [...s.interactions].join('') })) };
});

async function callerOf(claims: Record<string, unknown>) {
  const response = await server.request({ method: 'GET', url: '/fhir/_test/caller', headers: await issuer.bearer(claims) });
  t.equal(response.statusCode, 200);
  return server.json(response);
}

t.test('the verified token claims become request.ctx.caller', async (t) => {
  const caller = await callerOf({
    client_id: 'growth-chart',
    sub: 'user-17',
    fhirUser: 'https://ehr.example/fhir/Practitioner/p-42',
    patient: 'pat-9',
    scope: 'openid fhirUser launch/patient patient/Observation.rs user/Patient.read',
    purpose_of_use: ['TREAT'],
    security_labels: 'R HIV',
  });
  t.match(caller, {
    authenticated: true,
    clientId: 'growth-chart',
    subject: 'user-17',
    fhirUser: 'Practitioner/p-42',
    patient: 'pat-9',
    purposeOfUse: ['TREAT'],
    grantedLabels: ['R', 'HIV'],
    breakGlass: false,
  });
  t.same(caller.scopes.map((s: { text: string; interactions: string }) => [s.text, s.interactions]), [
    ['patient/Observation.rs', 'rs'],
    ['user/Patient.read', 'rs'],
  ]);
  t.type(caller.address, 'string');
});

t.test('azp names the client when client_id is absent', async (t) => {
  t.equal((await callerOf({ azp: 'portal' })).clientId, 'portal');
});

t.test('purpose_of_use and security_labels may be space-separated strings or arrays', async (t) => {
  const caller = await callerOf({ purpose_of_use: 'TREAT ETREAT', security_labels: ['V', 'ETH', 12] });
  t.same(caller.purposeOfUse, ['TREAT', 'ETREAT']);
  t.same(caller.grantedLabels, ['V', 'ETH']);
});

t.test('BTG breaks the glass for a user with fhirUser and a user/ scope', async (t) => {
  const caller = await callerOf({ fhirUser: 'Practitioner/p-1', scope: 'user/*.rs', purpose_of_use: 'TREAT BTG' });
  t.equal(caller.breakGlass, true);
});

t.test('BTG does not break the glass for a patient app or a system client', async (t) => {
  t.equal((await callerOf({ fhirUser: 'Patient/pat-1', patient: 'pat-1', scope: 'patient/*.rs', purpose_of_use: 'BTG' })).breakGlass, false);
  t.equal((await callerOf({ scope: 'system/*.rs', purpose_of_use: 'BTG' })).breakGlass, false);
  t.equal((await callerOf({ scope: 'user/*.rs', purpose_of_use: 'BTG' })).breakGlass, false, 'no fhirUser');
});

t.test('a patient/ scope without a patient claim leaves patient undefined (refused later, not here)', async (t) => {
  const caller = await callerOf({ scope: 'patient/*.rs' });
  t.equal(caller.patient, undefined);
  t.equal(caller.scopes.length, 1);
});

t.test('a fhirUser that is not a FHIR reference, and claims of the wrong type, are left out', async (t) => {
  const caller = await callerOf({ fhirUser: 'mailto:someone@example.org', patient: 5, client_id: ['x'] });
  t.equal(caller.fhirUser, undefined);
  t.equal(caller.patient, undefined);
  t.equal(caller.clientId, undefined);
});

t.test('with authorization off the caller is unrestricted', async (t) => {
  const open = await startTestServer(t);
  open.app.get('/fhir/_test/caller', async (request) => request.ctx.caller);
  const caller = open.json(await open.request({ method: 'GET', url: '/fhir/_test/caller' }));
  t.match(caller, { authenticated: false, scopes: [], breakGlass: false });
});
