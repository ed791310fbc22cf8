import t from 'tap';
import { asCaller, RESTRICTED } from '../helpers/access.js';
import { createAll, matchIds, searchBundle } from '../helpers/search.js';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { SearchRegistry, searchIndexes } from '../../src/search/index.js';

const patients = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    resourceType: 'Patient', id: `p${String(i + from).padStart(3, '0')}`, gender: i % 2 ? 'male' : 'female',
    name: [{ family: `Fam${(i * 7) % 5}` }], birthDate: `19${50 + ((i * 3) % 40)}-01-01`,
  }));

const nextUrl = (b: any) => b.link.find((l: any) => l.relation === 'next')?.url?.replace('http://fhir.test/fhir/', '');
const prevUrl = (b: any) => b.link.find((l: any) => l.relation === 'previous')?.url?.replace('http://fhir.test/fhir/', '');
const ids = (b: any) => (b.entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id);

t.test('sort, paging, totals and shaping', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, patients(25));

  t.test('_sort by several keys, descending, stable', async (t) => {
    const b = await searchBundle(s, 'Patient?_sort=family,-birthdate&_count=100');
    const rows = b.entry.map((e: any) => [e.resource.name[0].family, e.resource.birthDate, e.resource.id]);
    const sorted = [...rows].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] > y[1] ? -1 : x[1] < y[1] ? 1 : x[2] < y[2] ? -1 : 1));
    t.same(rows, sorted);
  });

  t.test('next and previous links walk the whole result once', async (t) => {
    let b = await searchBundle(s, 'Patient?_sort=-birthdate&_count=4');
    const seen: string[] = [...ids(b)];
    const pages = [ids(b)];
    while (nextUrl(b)) {
      b = await searchBundle(s, nextUrl(b));
      seen.push(...ids(b));
      pages.push(ids(b));
    }
    t.equal(seen.length, 25);
    t.equal(new Set(seen).size, 25);
    const back = await searchBundle(s, prevUrl(b));
    t.same(ids(back), pages[pages.length - 2], 'previous gives the page before');
  });

  t.test('paging survives inserts between pages without repeats or skips', async (t) => {
    let b = await searchBundle(s, 'Patient?gender=female&_count=5');
    const seen: string[] = [...ids(b)];
    await createAll(s, [{ resourceType: 'Patient', id: 'p000a', gender: 'female' }, { resourceType: 'Patient', id: 'p999', gender: 'female' }]);
    while (nextUrl(b)) {
      b = await searchBundle(s, nextUrl(b));
      seen.push(...ids(b));
    }
    t.equal(new Set(seen).size, seen.length, 'no repeats');
    t.ok(seen.includes('p999'), 'a match inserted after the cursor is reached');
    t.notOk(seen.includes('p000a'), 'one inserted before the cursor is not');
    t.equal(seen.filter((id) => id !== 'p999' && id !== 'p000a').length, 13, 'every original match once');
  });

  t.test('_total, _summary=count, _elements, _count', async (t) => {
    t.equal((await searchBundle(s, 'Patient?gender=male&_total=accurate')).total, 12);
    t.equal((await searchBundle(s, 'Patient?gender=male&_total=none')).total, undefined);
    t.equal((await searchBundle(s, 'Patient?gender=male&_total=estimate&_count=2')).total, 12, 'estimate: counted (up to a cap)');
    t.equal((await searchBundle(s, 'Patient?gender=male&_count=20')).total, 12, 'by default: given when one page holds every match');
    t.equal((await searchBundle(s, 'Patient?gender=male&_count=2')).total, undefined, 'by default: not counted when there are more pages');
    const zero = await searchBundle(s, 'Patient?gender=male&_count=0');
    t.equal(zero.total, 12, '_count=0 asks for the total alone');
    t.equal(zero.entry, undefined);
    const none = await searchBundle(s, 'Patient?gender=unknown');
    t.equal(none.total, 0);
    t.equal(none.entry, undefined, 'no empty entry array (FHIR JSON has none)');
    const count = await searchBundle(s, 'Patient?gender=male&_summary=count');
    t.equal(count.total, 12);
    t.equal(count.entry, undefined);
    const el = await searchBundle(s, 'Patient?_id=p001&_elements=gender');
    t.same(Object.keys(el.entry[0].resource).sort(), ['gender', 'id', 'meta', 'resourceType']);
    t.equal((await searchBundle(s, 'Patient?_count=3')).entry.length, 3);
  });

  t.test('a token from another search is refused', async (t) => {
    const b = await searchBundle(s, 'Patient?gender=male&_count=2');
    const token = new URL(b.link.find((l: any) => l.relation === 'next').url).searchParams.get('_cursor');
    const r = await s.request({ method: 'GET', url: `/fhir/Patient?gender=female&_cursor=${token}` });
    t.equal(r.statusCode, 400);
  });
});

t.test('unknown parameters: ignored and reported, or 400 when strict', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, patients(2));
  const b = await searchBundle(s, 'Patient?foo=bar&gender=female');
  t.same(ids(b), ['p000']);
  const out = b.entry.find((e: any) => e.search.mode === 'outcome');
  t.match(out.resource.issue[0].diagnostics, /foo/);
  t.match(out.fullUrl, /^urn:uuid:[0-9a-f-]{36}$/, 'the outcome entry has a fullUrl of its own (searchset entries need one)');
  const strict = await s.request({ method: 'GET', url: '/fhir/Patient?foo=bar', headers: { prefer: 'handling=strict' } });
  t.equal(strict.statusCode, 400);
  t.match(strict.body, /foo/);
  const unknownModifier = await s.request({ method: 'GET', url: '/fhir/Patient?gender:nonsense=x', headers: { prefer: 'handling=strict' } });
  t.equal(unknownModifier.statusCode, 400);
  const operator = await s.request({ method: 'GET', url: '/fhir/Patient?family[$ne]=x&family=%24ne' });
  t.equal(operator.statusCode, 200, 'operator-like text is just text');
  t.same(ids(s.json(operator)), []);
});

t.test('a link repeats the search as written: commas, colons and slashes unescaped, the rest percent-encoded', async (t) => {
  const s = await startTestServer(t);
  const b = await searchBundle(s, '?_type=Patient,Consent&identifier=http://x.test/a|1&name:contains=a%20b%26c&_count=1');
  const self = b.link.find((l: any) => l.relation === 'self').url;
  t.equal(self, 'http://fhir.test/fhir?_type=Patient,Consent&identifier=http://x.test/a%7C1&name:contains=a%20b%26c&_count=1');
});

t.test('POST _search with a form body', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, patients(3));
  const r = await s.request({ method: 'POST', url: '/fhir/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'gender=male' });
  t.equal(r.statusCode, 200);
  t.same(ids(s.json(r)), ['p001']);
  const json = await s.request({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'gender=male' });
  t.equal(json.statusCode, 415, 'form bodies are only parsed for _search');
});

t.test('the access filter of the caller narrows matches, includes and counts', async (t) => {
  // A restricted-label resource is hidden from a token that is not granted the label.
  const writer = await startTestServer(t);
  const s = await startTestServer(t, { dbName: writer.db.databaseName, app: asCaller({}) });
  await createAll(writer, [
    { resourceType: 'Patient', id: 'open', gender: 'male' },
    { resourceType: 'Patient', id: 'secret', gender: 'male', meta: RESTRICTED },
    { resourceType: 'DocumentReference', id: 'd', status: 'current', subject: { reference: 'Patient/secret' }, content: [{ attachment: { contentType: 'text/plain' } }] },
  ]);
  const b = await searchBundle(s, 'Patient?gender=male&_total=accurate');
  t.same(ids(b), ['open']);
  t.equal(b.total, 1);
  const inc = await searchBundle(s, 'DocumentReference?_include=DocumentReference:subject');
  t.same(inc.entry.map((e: any) => e.resource.id), ['d'], 'the hidden patient is not included');
  t.same(await matchIds(s, 'DocumentReference?subject.gender=male'), [], 'chains respect it');
});

t.test('custom SearchParameter takes effect for new resources, and $reindex for old ones', async (t) => {
  const s = await startTestServer(t);
  const other = await startTestServer(t, { dbName: s.db.databaseName, app: { searchParamRefreshMs: 0 } });
  await createAll(s, [{ resourceType: 'Patient', id: 'old', birthDate: '2000-01-01', multipleBirthInteger: 2 }]);
  const sp = { resourceType: 'SearchParameter', id: 'birth-order', url: 'http://example.org/sp/birth-order', name: 'birth-order', status: 'active',
    description: 'birth order', code: 'birth-order', base: ['Patient'], type: 'number', expression: 'Patient.multipleBirth.as(integer)' };
  const r = await s.request({ method: 'POST', url: '/fhir/SearchParameter', headers: FHIR_JSON_HEADERS, payload: sp });
  t.equal(r.statusCode, 201);
  await createAll(other, [{ resourceType: 'Patient', id: 'new', multipleBirthInteger: 2 }]);
  t.same(await matchIds(other, 'Patient?birth-order=2'), ['new'], 'another instance sees it without restart');
  const re = await s.request({ method: 'POST', url: '/fhir/Patient/$reindex' });
  t.equal(re.statusCode, 200);
  t.same(await matchIds(s, 'Patient?birth-order=2'), ['new', 'old']);
  t.same(await matchIds(s, 'Patient?birth-order=gt2'), []);
});

t.test('every index the planner leads with is declared and created at start-up', async (t) => {
  const s = await startTestServer(t);
  const registry = new SearchRegistry(undefined);
  const declared = searchIndexes(registry, SearchRegistry.storedTypes());
  for (const type of ['Patient', 'DocumentReference']) {
    const existing = new Set((await s.db.collection(type).indexes()).map((i) => i.name));
    for (const d of declared.filter((x) => x.collection === type)) t.ok(existing.has(d.options!.name), `${d.options!.name} exists`);
  }
  const shapes: [string, string, string | RegExp][] = [
    ['Patient', 'identifier=urn:mrn|1', 'sp_identifier'],
    ['Patient', 'family=smi', 'sp_family'],
    ['Patient', 'birthdate=ge1980&birthdate=lt1990', /^sp_birthdate_(lo|hi)$/],
    ['DocumentReference', 'patient=Patient/1&type=http://loinc.org|11506-3&date=ge2020&_sort=-date', 'sp_patient_date'],
    ['DocumentReference', 'status=current', 'sp_status'],
  ];
  for (const [type, query, index] of shapes) {
    const r = await s.request({ method: 'GET', url: `/fhir/${type}?${query}` });
    t.match(r.headers['x-search-index'], index, `${type}?${query} leads with ${index}`);
  }
});

t.test('no declared index has two multi-valued fields (MongoDB cannot index parallel arrays)', async (t) => {
  const s = await startTestServer(t);
  const declared = searchIndexes(new SearchRegistry(undefined), SearchRegistry.storedTypes());
  // Scalars: _id, date ends (.lo/.hi) and sort keys; every other sp.* field holds an array.
  const isArrayField = (key: string) => key.startsWith('sp.') && !/(\.lo|\.hi|__sort)$/.test(key);
  for (const d of declared) {
    t.ok(Object.keys(d.key).filter(isArrayField).length <= 1, `${d.collection}.${d.options!.name}`);
  }
});

t.test('CapabilityStatement lists search parameters and interactions', async (t) => {
  const s = await startTestServer(t);
  const cs = s.json(await s.request({ method: 'GET', url: '/fhir/metadata' }));
  const patient = cs.rest[0].resource.find((r: any) => r.type === 'Patient');
  t.ok(patient.interaction.some((i: any) => i.code === 'search-type'));
  const birthdate = patient.searchParam.find((p: any) => p.name === 'birthdate');
  t.equal(birthdate.type, 'date');
  t.ok(birthdate.documentation);
  t.ok(cs.rest[0].interaction.some((i: any) => i.code === 'search-system'));
});
