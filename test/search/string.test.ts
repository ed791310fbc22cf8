import t from 'tap';
import { createAll, matchIds } from '../helpers/search.js';
import { startTestServer } from '../helpers/server.js';

t.test('string parameters', async (t) => {
  const s = await startTestServer(t);
  await createAll(s, [
    { resourceType: 'Patient', id: 'muller', name: [{ family: 'Müller', given: ['Jürgen'] }], address: [{ city: 'Köln', line: ['Hauptstraße 1'] }] },
    { resourceType: 'Patient', id: 'miller', name: [{ family: 'Miller', given: ['Anna', 'Maria'] }] },
    { resourceType: 'Patient', id: 'mull', name: [{ family: 'Mull' }] },
    { resourceType: 'Patient', id: 'none' },
  ]);

  t.test('prefix match ignores case and accents', async (t) => {
    t.same(await matchIds(s, 'Patient?family=MUL'), ['mull', 'muller']);
    t.same(await matchIds(s, 'Patient?family=müll'), ['mull', 'muller']);
    t.same(await matchIds(s, 'Patient?family=ller'), []);
  });
  t.test('name matches every part of HumanName, address every part of Address', async (t) => {
    t.same(await matchIds(s, 'Patient?name=maria'), ['miller']);
    t.same(await matchIds(s, 'Patient?name=jurg'), ['muller']);
    t.same(await matchIds(s, 'Patient?address=koln'), ['muller']);
    t.same(await matchIds(s, 'Patient?address=haupt'), ['muller']);
  });
  t.test(':exact is case- and accent-sensitive and whole-value', async (t) => {
    t.same(await matchIds(s, 'Patient?family:exact=Müller'), ['muller']);
    t.same(await matchIds(s, 'Patient?family:exact=Muller'), []);
    t.same(await matchIds(s, 'Patient?family:exact=Mül'), []);
  });
  t.test(':contains matches inside the value; regex characters are literal', async (t) => {
    t.same(await matchIds(s, 'Patient?family:contains=ULL'), ['mull', 'muller']);
    t.same(await matchIds(s, 'Patient?family:contains=.*'), []);
  });
  t.test('comma is OR, repeated parameter is AND', async (t) => {
    t.same(await matchIds(s, 'Patient?family=mill,mull'), ['miller', 'mull', 'muller']);
    t.same(await matchIds(s, 'Patient?name=anna&name=maria'), ['miller']);
    t.same(await matchIds(s, 'Patient?name=anna&name=jurgen'), []);
  });
  t.test(':missing', async (t) => {
    t.same(await matchIds(s, 'Patient?family:missing=true'), ['none']);
    t.same(await matchIds(s, 'Patient?family:missing=false'), ['miller', 'mull', 'muller']);
  });
});
