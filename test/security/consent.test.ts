import t from 'tap';
import type { Caller } from '../../src/security/context.js';
import { asCaller, scope } from '../helpers/access.js';
import { createAll, matchIds } from '../helpers/search.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';

// Dr Who (user/*.rs) reads Alice's and Bob's records; Alice's Consents say what Dr Who may see.
const LOINC = 'http://loinc.org';
const doc = (id: string, patient: string, code: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'DocumentReference', id, status: 'current', subject: { reference: `Patient/${patient}` },
  type: { coding: [{ system: LOINC, code }] }, content: [{ attachment: { contentType: 'text/plain' } }], ...extra,
});
const records = [
  { resourceType: 'Patient', id: 'alice' },
  { resourceType: 'Patient', id: 'bob' },
  doc('note', 'alice', '11488-4', { date: '2023-05-01T10:00:00Z' }),
  doc('old', 'alice', '11488-4', { date: '2015-05-01T10:00:00Z' }),
  doc('psych', 'alice', '18842-5', { date: '2023-06-01T10:00:00Z', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'MH' }] } }),
  doc('addendum', 'alice', '11488-4', { relatesTo: [{ code: 'appends', target: { reference: 'DocumentReference/psych' } }] }),
  doc('bobs', 'bob', '11488-4'),
];
const ALICE_ALL = ['addendum', 'alice', 'note', 'old', 'psych'];
const DR = { fhirUser: 'Practitioner/who', scopes: [scope('user/*.rs')] };

/** Alice's privacy Consent with this provision tree. */
const consent = (id: string, provision: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Consent', id, status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: LOINC, code: '59284-0' }] }],
  patient: { reference: 'Patient/alice' }, policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
  provision, ...extra,
});
const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference } });
/** Permit everything except the nested deny rule `rule`. */
const denying = (rule: Record<string, unknown>) => ({ type: 'permit', provision: [{ type: 'deny', ...rule }] });

type Setup = { admin: TestServer; as: (caller?: Partial<Caller>, env?: Record<string, string>) => Promise<TestServer> };

async function setup(t: Parameters<typeof startTestServer>[0], consents: Record<string, unknown>[]): Promise<Setup> {
  const admin = await startTestServer(t);
  await createAll(admin, [...records, ...consents]);
  return {
    admin,
    as: (caller = DR, env = {}) => startTestServer(t, { dbName: admin.db.databaseName, env, app: asCaller(caller) }),
  };
}

/** Everything of Alice's the caller sees: her Patient and her documents. */
const aliceSees = async (s: TestServer) => [...(await matchIds(s, 'Patient?_id=alice')), ...(await matchIds(s, 'DocumentReference?subject=Patient/alice'))].sort();

t.test('without a Consent everything is visible', async (t) => {
  const { as } = await setup(t, []);
  t.same(await aliceSees(await as()), ALICE_ALL);
});

t.test('a deny for an actor hides the patient\'s records from that actor only', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ actor: [actor('Practitioner/who')] }))]);
  const who = await as();
  t.same(await aliceSees(who), []);
  t.equal((await who.request({ method: 'GET', url: '/fhir/DocumentReference/note' })).statusCode, 404, 'a read answers 404');
  t.same(await matchIds(who, 'DocumentReference?subject=Patient/bob'), ['bobs'], "Bob's records are not Alice's to restrict");
  t.same(await aliceSees(await as({ ...DR, fhirUser: 'Practitioner/other' })), ALICE_ALL);
});

t.test('an actor matches by role too', async (t) => {
  const byRole = { actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'ECON' }] }, reference: { reference: 'Organization/billing' } }] };
  const { as } = await setup(t, [consent('c', denying(byRole))]);
  t.same(await aliceSees(await as({ ...DR, roles: ['ECON'] })), []);
  t.same(await aliceSees(await as()), ALICE_ALL);
});

t.test('class limits a rule to resource types', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'DocumentReference' }] }))]);
  t.same(await aliceSees(await as()), ['alice']);
});

t.test('code limits a rule to resources with that code', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ code: [{ coding: [{ system: LOINC, code: '18842-5' }] }] }))]);
  t.same(await aliceSees(await as()), ['addendum', 'alice', 'note', 'old']);
});

t.test('securityLabel limits a rule to resources with that label', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'MH' }] }))]);
  t.same(await aliceSees(await as()), ['addendum', 'alice', 'note', 'old']);
});

t.test('dataPeriod limits a rule to resources dated within it', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ dataPeriod: { end: '2019-12-31' } }))]);
  t.same(await aliceSees(await as()), ['addendum', 'alice', 'note', 'psych'], 'the 2015 note is hidden; undated ones are not in the period');
});

t.test('data with meaning instance hides that resource; related also what refers to it', async (t) => {
  const instance = await setup(t, [consent('c', denying({ data: [{ meaning: 'instance', reference: { reference: 'DocumentReference/psych' } }] }))]);
  t.same(await aliceSees(await instance.as()), ['addendum', 'alice', 'note', 'old']);
  const related = await setup(t, [consent('c', denying({ data: [{ meaning: 'related', reference: { reference: 'DocumentReference/psych' } }] }))]);
  t.same(await aliceSees(await related.as()), ['alice', 'note', 'old'], 'the addendum relates to it');
});

t.test('purpose: a deny-by-default Consent that permits treatment', async (t) => {
  const treatment = { type: 'deny', provision: [{ type: 'permit', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }] };
  const { as } = await setup(t, [consent('c', treatment)]);
  t.same(await aliceSees(await as({ ...DR, purposeOfUse: ['TREAT'] })), ALICE_ALL);
  t.same(await aliceSees(await as({ ...DR, purposeOfUse: ['HMARKT'] })), []);
  t.same(await aliceSees(await as()), [], 'no purpose given');
});

t.test('action: a rule about collection does not govern access', async (t) => {
  const collect = (code: string) => denying({ action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code }] }] });
  t.same(await aliceSees(await (await setup(t, [consent('c', collect('collect'))])).as()), ALICE_ALL);
  t.same(await aliceSees(await (await setup(t, [consent('c', collect('access'))])).as()), []);
});

t.test('period: a rule outside its period does not apply', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ period: { end: '2020-01-01' } }))]);
  t.same(await aliceSees(await as()), ALICE_ALL);
});

t.test('nested exceptions: deny documents, but permit notes', async (t) => {
  const tree = {
    type: 'permit',
    provision: [{
      type: 'deny', class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'DocumentReference' }],
      provision: [{ type: 'permit', code: [{ coding: [{ system: LOINC, code: '11488-4' }] }] }],
    }],
  };
  const { as } = await setup(t, [consent('c', tree)]);
  t.same(await aliceSees(await as()), ['addendum', 'alice', 'note', 'old']);
});

t.test('Consents that are not active, or not about privacy, are not applied', async (t) => {
  const denyAll = denying({ actor: [actor('Practitioner/who')] });
  const { as } = await setup(t, [
    consent('inactive', denyAll, { status: 'inactive' }),
    consent('research', denyAll, { scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] } }),
  ]);
  t.same(await aliceSees(await as()), ALICE_ALL);
});

t.test('CONSENT_DEFAULT=deny hides patients without a Consent; a permitting one opens them', async (t) => {
  const { as } = await setup(t, [consent('c', { type: 'permit' })]);
  const s = await as(DR, { CONSENT_DEFAULT: 'deny' });
  t.same(await aliceSees(s), ALICE_ALL);
  t.same(await matchIds(s, 'Patient'), ['alice'], 'Bob has no Consent');
});

t.test('the patient herself is not restricted by her own Consent', async (t) => {
  const { as } = await setup(t, [consent('c', denying({}))]);
  t.same(await aliceSees(await as()), [], 'a deny for everyone hides her records from others');
  t.same(await aliceSees(await as({ patient: 'alice', scopes: [scope('patient/*.rs')] })), ALICE_ALL);
});

t.test('break-the-glass overrides a Consent denial', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ actor: [actor('Practitioner/who')] }))]);
  t.same(await aliceSees(await as({ ...DR, purposeOfUse: ['BTG'], breakGlass: true })), ALICE_ALL);
});

t.test('history is filtered by Consent too', async (t) => {
  const { as } = await setup(t, [consent('c', denying({ class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'DocumentReference' }] }))]);
  const who = await as();
  const history = who.json(await who.request({ method: 'GET', url: '/fhir/DocumentReference/_history' }));
  t.same((history.entry ?? []).map((e: any) => e.resource.id), ['bobs']);
  t.equal((await who.request({ method: 'GET', url: '/fhir/DocumentReference/note/_history/1' })).statusCode, 404);
});

t.test('a stored, changed or deleted Consent takes effect on the next request of another instance', async (t) => {
  const { admin, as } = await setup(t, []);
  const other = await as();
  t.same(await aliceSees(other), ALICE_ALL);
  const stored = await admin.request({ method: 'PUT', url: '/fhir/Consent/c', headers: FHIR_JSON_HEADERS, payload: consent('c', denying({ actor: [actor('Practitioner/who')] })) });
  t.equal(stored.statusCode, 201);
  t.same(await aliceSees(other), [], 'stored');
  await admin.request({ method: 'PUT', url: '/fhir/Consent/c', headers: FHIR_JSON_HEADERS, payload: consent('c', denying({ actor: [actor('Practitioner/other')] })) });
  t.same(await aliceSees(other), ALICE_ALL, 'changed to another actor');
  await admin.request({ method: 'PUT', url: '/fhir/Consent/c', headers: FHIR_JSON_HEADERS, payload: consent('c', denying({})) });
  t.same(await aliceSees(other), [], 'changed to everyone');
  await admin.request({ method: 'DELETE', url: '/fhir/Consent/c' });
  t.same(await aliceSees(other), ALICE_ALL, 'deleted');
});
