import t from 'tap';
import { createAll, matchIds, searchBundle } from '../helpers/search.js';
import { startTestServer } from '../helpers/server.js';

const doc = (id: string, patient: string, status: string, extra: object = {}) => ({
  resourceType: 'DocumentReference', id, status, subject: { reference: `Patient/${patient}` },
  content: [{ attachment: { contentType: 'text/plain' } }], ...extra,
});

t.test('references, chains, _has, includes and compartments', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Smith' }], identifier: [{ system: 'urn:mrn', value: '1' }], link: [{ other: { reference: 'Patient/p2' }, type: 'seealso' }] },
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Jones' }], identifier: [{ system: 'urn:mrn', value: '2' }] },
    doc('d1', 'p1', 'current', { author: [{ reference: 'Patient/p2' }], relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/d2' } }] }),
    doc('d2', 'p1', 'superseded'),
    doc('d3', 'p2', 'current', { subject: { reference: 'http://fhir.test/fhir/Patient/p2' } }),
    doc('d4', 'x', 'current', { subject: { identifier: { system: 'urn:mrn', value: '77' } } }),
  ]);
  t.same(await matchIds(s, 'DocumentReference?subject=Patient/p1'), ['d1', 'd2']);
  t.same(await matchIds(s, 'DocumentReference?subject=p2'), ['d3'], 'bare id; absolute URL under our base is local');
  t.same(await matchIds(s, 'DocumentReference?subject=http://fhir.test/fhir/Patient/p2'), ['d3']);
  t.same(await matchIds(s, 'DocumentReference?subject:Patient=p1'), ['d1', 'd2']);
  t.same(await matchIds(s, 'DocumentReference?patient=p1&status=current'), ['d1']);
  t.same(await matchIds(s, 'DocumentReference?subject:identifier=urn:mrn|77'), ['d4']);
  t.same(await matchIds(s, 'DocumentReference?relationship=replaces$DocumentReference/d2'), ['d1'], 'composite');
  t.same(await matchIds(s, 'DocumentReference?relationship=replaces$d2'), ['d1'], 'composite with a bare id');
  t.same(await matchIds(s, 'DocumentReference?author=p2'), ['d1'], 'bare id of a parameter with several target types');
  // One stored key per reference (the bare id is found through Type/id of each target type).
  const stored = await s.db.collection('DocumentReference').findOne({ _id: 'd3' as never });
  t.same(stored?.sp.subject, ['Patient/p2'], 'a reference is stored as Type/id only');
  t.same(await matchIds(s, 'DocumentReference?subject.name=smith'), ['d1', 'd2'], 'chain');
  t.same(await matchIds(s, 'DocumentReference?subject:Patient.identifier=urn:mrn|2'), ['d3']);
  t.same(await matchIds(s, 'DocumentReference?author:Patient.link:Patient.name=jones'), [], 'two-level chain, no match');
  t.same(await matchIds(s, 'DocumentReference?subject:Patient.link:Patient.name=jones'), ['d1', 'd2'], 'two-level chain');
  t.same(await matchIds(s, 'Patient?_has:DocumentReference:subject:status=superseded'), ['p1'], 'reverse chain');
  t.same(await matchIds(s, 'Patient?_has:DocumentReference:subject:status=current'), ['p1', 'p2']);

  t.test('_include and _revinclude mark included resources', async (t) => {
    const b = await searchBundle(s, 'DocumentReference?_id=d1&_include=DocumentReference:subject&_include=DocumentReference:author');
    const modes = b.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}/${e.resource.id}`).sort();
    t.same(modes, ['include:Patient/p1', 'include:Patient/p2', 'match:DocumentReference/d1']);
    const r = await searchBundle(s, 'Patient?_id=p2&_revinclude=DocumentReference:subject');
    t.same(r.entry.map((e: any) => `${e.search.mode}:${e.resource.id}`).sort(), ['include:d3', 'match:p2']);
    const star = await searchBundle(s, 'DocumentReference?_id=d1&_include=*');
    t.equal(star.entry.length, 4, 'subject, author and relatesto targets');
    const iter = await searchBundle(s, 'DocumentReference?_id=d3&_include=DocumentReference:subject&_revinclude:iterate=DocumentReference:author');
    t.same(iter.entry.map((e: any) => e.resource.id).sort(), ['d1', 'd3', 'p2'], ':iterate follows included resources');
  });

  t.test('compartment search', async (t) => {
    t.same(await matchIds(s, 'Patient/p2/DocumentReference'), ['d1', 'd3'], 'subject or author');
    t.same(await matchIds(s, 'Patient/p1/DocumentReference?status=current'), ['d1']);
    t.same(await matchIds(s, 'Patient/p1/Patient'), ['p1']);
  });

  t.test('system search with _type', async (t) => {
    t.same(await matchIds(s, '?_type=Patient,DocumentReference&_id=p1,d2'), ['d2', 'p1']);
    const all = await searchBundle(s, '?_type=Patient,DocumentReference&_count=2&_total=accurate');
    t.equal(all.total, 6);
    let url: string | undefined = all.link.find((l: any) => l.relation === 'next')?.url;
    const seen = all.entry.map((e: any) => e.resource.id);
    while (url) {
      const page = await searchBundle(s, url.replace('http://fhir.test/fhir', ''));
      seen.push(...page.entry.map((e: any) => e.resource.id));
      url = page.link.find((l: any) => l.relation === 'next')?.url;
    }
    t.same(seen.sort(), ['d1', 'd2', 'd3', 'd4', 'p1', 'p2'], 'paging across types visits each once');
  });

  t.test('system search pages back through previous links', async (t) => {
    // A system search's links are [base]?...: what follows the base is the searchBundle path.
    const relative = (u: string) => u.replace('http://fhir.test/fhir', '');
    const linkOf = (b: any, relation: string) => b.link.find((l: any) => l.relation === relation)?.url as string | undefined;
    for (const sort of ['', '&_sort=-_lastUpdated', '&_sort=birthdate']) {
      const forward: string[][] = [];
      let page = await searchBundle(s, `?_type=Patient,DocumentReference&_count=2${sort}`);
      t.equal(linkOf(page, 'previous'), undefined, `${sort}: no previous link on the first page`);
      forward.push(page.entry.map((e: any) => e.resource.id));
      while (linkOf(page, 'next')) {
        page = await searchBundle(s, relative(linkOf(page, 'next')!));
        forward.push(page.entry.map((e: any) => e.resource.id));
      }
      const backward: string[][] = [];
      while (linkOf(page, 'previous')) {
        page = await searchBundle(s, relative(linkOf(page, 'previous')!));
        backward.unshift(page.entry.map((e: any) => e.resource.id));
      }
      t.same(backward, forward.slice(0, -1), `${sort || 'default sort'}: the same pages, in the same order`);
    }
  });
});
