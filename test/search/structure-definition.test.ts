import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { putResource } from '../helpers/fhir.js';

const profile = (id: string, type: string) => ({
  resourceType: 'StructureDefinition',
  id,
  url: `http://fhir.records.example.org/StructureDefinition/${id}`,
  name: `Records${type}`,
  status: 'active',
  kind: 'resource',
  abstract: false,
  type,
  baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
  derivation: 'constraint',
  differential: { element: [{ id: `${type}.id`, path: `${type}.id`, min: 1 }] },
});

t.test('stored profiles are found by url, name and type', async (t) => {
  const s = await startTestServer(t);
  t.equal((await putResource(s, profile('records-patient', 'Patient'))).statusCode, 201);
  t.equal((await putResource(s, profile('records-consent', 'Consent'))).statusCode, 201);
  const ids = async (query: string) => {
    const response = await s.request({ method: 'GET', url: `/fhir/StructureDefinition?${query}` });
    t.equal(response.statusCode, 200, query);
    return (s.json(response).entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id).sort();
  };
  t.same(await ids('url=http://fhir.records.example.org/StructureDefinition/records-patient'), ['records-patient']);
  t.same(await ids('name=RecordsCon'), ['records-consent']);
  t.same(await ids('type=Patient'), ['records-patient']);
  t.same(await ids('type=Patient,Consent'), ['records-consent', 'records-patient']);
  t.same(await ids('url=http://fhir.records.example.org/StructureDefinition/nothing'), []);
});
