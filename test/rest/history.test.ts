import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { createResource, patient, putResource } from '../helpers/fhir.js';
import type { TestServer } from '../helpers/server.js';

async function getBundle(s: TestServer, url: string) {
  const response = await s.request({ method: 'GET', url });
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  return s.json(response);
}

const link = (bundle: any, relation: string): string | undefined =>
  bundle.link.find((l: any) => l.relation === relation)?.url?.replace('http://fhir.test', '');

/** Follows `relation` links from the first page, collecting "Type/id/version" of every entry. */
async function walk(s: TestServer, url: string, relation = 'next', onPage?: () => Promise<void>) {
  const seen: string[] = [];
  let next: string | undefined = url;
  while (next) {
    const bundle = await getBundle(s, next);
    for (const entry of bundle.entry ?? []) {
      seen.push(`${entry.fullUrl.split('/fhir/')[1]}/${entry.response.etag}`);
    }
    await onPage?.();
    next = link(bundle, relation);
  }
  return seen;
}

t.test('instance history lists every version newest first', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient());
  await putResource(s, { ...created, gender: 'female' });
  await putResource(s, { ...created, gender: 'other' });
  const bundle = await getBundle(s, `/fhir/Patient/${created.id}/_history`);
  t.equal(bundle.resourceType, 'Bundle');
  t.equal(bundle.type, 'history');
  t.equal(bundle.total, 3);
  t.same(bundle.entry.map((e: any) => e.resource.meta.versionId), ['3', '2', '1']);
  t.same(bundle.entry.map((e: any) => e.request.method), ['PUT', 'PUT', 'POST']);
  t.equal(bundle.entry[2].response.status, '201');
  t.equal(bundle.entry[0].fullUrl, `http://fhir.test/fhir/Patient/${created.id}`);
});

t.test('type and system history cover their scope only', async (t) => {
  const s = await startTestServer(t);
  const p = await createResource(s, patient());
  await createResource(s, {
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { contentType: 'text/plain' } }],
    subject: { reference: `Patient/${p.id}` },
  });
  const patients = await getBundle(s, '/fhir/Patient/_history');
  t.equal(patients.total, 1);
  t.equal(patients.entry[0].resource.resourceType, 'Patient');
  const all = await getBundle(s, '/fhir/_history');
  t.equal(all.total, 2);
  t.same(all.entry.map((e: any) => e.resource.resourceType), ['DocumentReference', 'Patient'], 'newest first');
});

t.test('_count pages with next and previous links that walk the whole history', async (t) => {
  const s = await startTestServer(t);
  for (let i = 0; i < 7; i++) await createResource(s, patient(`Family${i}`));
  const first = await getBundle(s, '/fhir/Patient/_history?_count=3');
  t.equal(first.entry.length, 3);
  t.equal(first.total, 7);
  t.notOk(link(first, 'previous'), 'no previous on the first page');
  const forward = await walk(s, '/fhir/Patient/_history?_count=3');
  t.equal(forward.length, 7);
  t.equal(new Set(forward).size, 7, 'no repeats');
  const families = (await getBundle(s, '/fhir/Patient/_history?_count=10')).entry.map((e: any) => e.resource.name[0].family);
  t.same(families, ['Family6', 'Family5', 'Family4', 'Family3', 'Family2', 'Family1', 'Family0']);

  // Go to the last page, then back with previous links.
  const second = await getBundle(s, link(first, 'next')!);
  const third = await getBundle(s, link(second, 'next')!);
  t.equal(third.entry.length, 1);
  t.notOk(link(third, 'next'), 'no next on the last page');
  const back = await getBundle(s, link(third, 'previous')!);
  t.same(
    back.entry.map((e: any) => e.resource.id),
    second.entry.map((e: any) => e.resource.id),
    'previous returns the page before',
  );
});

t.test('paging stays correct while new writes arrive', async (t) => {
  const s = await startTestServer(t);
  const before: string[] = [];
  for (let i = 0; i < 10; i++) before.push((await createResource(s, patient(`Before${i}`))).id);
  let extra = 0;
  const seen = await walk(s, '/fhir/Patient/_history?_count=3', 'next', async () => {
    await createResource(s, patient(`During${extra++}`));
    const first = await getBundle(s, '/fhir/Patient/_history?_count=1');
    await putResource(s, { ...first.entry[0].resource, gender: 'female' });
  });
  t.equal(seen.length, 10, 'exactly the versions that existed when paging began');
  t.same(new Set(seen.map((k) => k.split('/')[1])), new Set(before));
  t.ok(extra > 0);
});

t.test('_since keeps versions made at or after the instant', async (t) => {
  const s = await startTestServer(t);
  const old = await createResource(s, patient('Old'));
  await new Promise((r) => setTimeout(r, 20));
  const cut = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  const recent = await createResource(s, patient('Recent'));
  await putResource(s, { ...old, gender: 'female' });
  const bundle = await getBundle(s, `/fhir/Patient/_history?_since=${encodeURIComponent(cut)}`);
  t.equal(bundle.total, 2);
  t.same(bundle.entry.map((e: any) => `${e.resource.id}/${e.resource.meta.versionId}`), [`${old.id}/2`, `${recent.id}/1`]);
  t.match(link(bundle, 'self'), /_since=/, 'links keep _since');
});

t.test('_at shows the history as it stood at that time', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient('Then'));
  await new Promise((r) => setTimeout(r, 20));
  const at = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await putResource(s, { ...created, name: [{ family: 'Now' }] });
  const bundle = await getBundle(s, `/fhir/Patient/${created.id}/_history?_at=${encodeURIComponent(at)}`);
  t.equal(bundle.total, 1);
  t.equal(bundle.entry[0].resource.name[0].family, 'Then');
});

t.test('bad history parameters give 400 OperationOutcomes', async (t) => {
  const s = await startTestServer(t);
  for (const query of ['_since=yesterday', '_at=2024-13-01', '_count=-1', '_count=ten', '_cursor=not-a-token']) {
    const response = await s.request({ method: 'GET', url: `/fhir/_history?${query}` });
    t.equal(response.statusCode, 400, query);
    t.equal(s.json(response).resourceType, 'OperationOutcome');
  }
});

t.test('_count is capped at the configured maximum', async (t) => {
  const s = await startTestServer(t, { env: { MAX_PAGE_SIZE: '2', DEFAULT_PAGE_SIZE: '1' } });
  for (let i = 0; i < 3; i++) await createResource(s, patient());
  t.equal((await getBundle(s, '/fhir/Patient/_history')).entry.length, 1, 'default page size');
  t.equal((await getBundle(s, '/fhir/Patient/_history?_count=100')).entry.length, 2, 'capped');
});

t.test('an empty history page has no entry array', async (t) => {
  const s = await startTestServer(t);
  const bundle = await getBundle(s, '/fhir/Patient/_history');
  t.equal(bundle.total, 0);
  t.equal(bundle.entry, undefined, 'FHIR JSON has no empty arrays');
});
