import t from 'tap';
import { MAX_INDEXES_PER_COLLECTION, SearchRegistry, type SearchParam } from '../../src/search/index.js';
import { planFilter } from '../../src/search/plan.js';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { createAll, matchIds, searchBundle } from '../helpers/search.js';

const CUSTOM_PARAMS = 100;

function customParam(n: number) {
  return {
    resourceType: 'SearchParameter',
    id: `custom-${n}`,
    url: `http://example.org/sp/custom-${n}`,
    name: `custom${n}`,
    status: 'active',
    description: `custom parameter ${n}`,
    code: `custom-${n}`,
    base: ['Patient', 'DocumentReference', 'Consent', 'AuditEvent'],
    type: n % 2 ? 'string' : 'token',
    expression: n % 2 ? 'Patient.name.family | DocumentReference.description' : 'Patient.gender | DocumentReference.status',
  };
}

t.test('no collection passes the index budget, whatever SearchParameters are stored', async (t) => {
  const s = await startTestServer(t, { app: { searchParamRefreshMs: 0 } });
  for (let n = 0; n < CUSTOM_PARAMS; n++) {
    const r = await s.request({ method: 'PUT', url: `/fhir/SearchParameter/custom-${n}`, headers: FHIR_JSON_HEADERS, payload: customParam(n) });
    t.equal(r.statusCode, 201, `custom-${n} stored`);
  }
  await createAll(s, [{ resourceType: 'Patient', id: 'p1', gender: 'female', name: [{ family: 'Okafor' }] }]);
  t.same(await matchIds(s, 'Patient?custom-7=oka'), ['p1'], 'a custom string parameter is searchable at once');
  t.same(await matchIds(s, 'Patient?custom-8=female'), ['p1'], 'a custom token parameter is searchable at once');
  for (const type of SearchRegistry.storedTypes()) {
    const indexes = await s.db.collection(type).indexes();
    t.ok(indexes.length <= MAX_INDEXES_PER_COLLECTION, `${type}: ${indexes.length} indexes, at most ${MAX_INDEXES_PER_COLLECTION}`);
  }
});

t.test('a parameter without an index of its own is served by the shared index', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Patient', id: 'a', address: [{ city: 'Köln', postalCode: '50667' }], deceasedBoolean: true },
    { resourceType: 'Patient', id: 'b', address: [{ city: 'Lyon' }] },
    { resourceType: 'Patient', id: 'c', address: [{ city: 'Kolding' }], deceasedBoolean: false },
  ]);
  const r = await s.request({ method: 'GET', url: '/fhir/Patient?address-city=kol' });
  t.equal(r.headers['x-search-index'], 'spx_value');
  t.same(await matchIds(s, 'Patient?address-city=kol'), ['a', 'c'], 'prefix, accents folded');
  t.same(await matchIds(s, 'Patient?address-city:exact=Köln'), ['a'], ':exact');
  t.same(await matchIds(s, 'Patient?deceased=true'), ['a']);
  t.same(await matchIds(s, 'Patient?deceased:not=true'), ['b', 'c'], ':not also matches resources without a value');
  t.same(await matchIds(s, 'Patient?address-postalcode:missing=true'), ['b', 'c']);
  t.same(await matchIds(s, 'Patient?address-postalcode:missing=false'), ['a']);
  const bundle = await searchBundle(s, 'Patient?address-city=kol&_sort=address-city');
  t.same(bundle.entry.map((e: any) => e.resource.id), ['c', 'a'], 'sorted by the scalar sort key (kolding < koln)');

  const filter = planFilter('Patient', [{ kind: 'string', param: { code: 'address-city' } as SearchParam, mode: 'prefix', values: ['kol'] }], undefined).filter;
  const explain: any = await s.db.collection('Patient').find(filter).explain('executionStats');
  t.match(JSON.stringify(explain.queryPlanner.winningPlan), /"indexName":"spx_value"/, 'the shared index is walked');
  t.ok(explain.executionStats.totalKeysExamined <= 4, `keys examined: ${explain.executionStats.totalKeysExamined}`);
});

t.test('start-up drops search indexes no longer declared, and rebuilds one whose key changed', async (t) => {
  const first = await startTestServer(t, { keepDb: true });
  const patients = first.db.collection('Patient');
  await patients.createIndex({ 'sp.deceased': 1, _id: 1 }, { name: 'sp_deceased' });
  await patients.dropIndex('spx_value');
  await patients.createIndex({ 'spx.c': 1, 'spx.v': 1, _id: 1 }, { name: 'spx_value' });
  await patients.createIndex({ 'resource.active': 1 }, { name: 'operators_own' });
  await first.app.close();

  const second = await startTestServer(t, { dbName: first.db.databaseName });
  t.teardown(() => second.db.dropDatabase());
  const indexes = await second.db.collection('Patient').indexes();
  const names = indexes.map((i) => i.name);
  t.notOk(names.includes('sp_deceased'), 'an undeclared search index is dropped');
  t.same(indexes.find((i) => i.name === 'spx_value')?.key, { spx: 1, _id: 1 }, 'a changed key is rebuilt');
  t.ok(names.includes('operators_own'), 'indexes the server does not own are left alone');
});
