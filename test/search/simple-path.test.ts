import { readFileSync, readdirSync } from 'node:fs';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import t from 'tap';
import { SearchRegistry } from '../../src/search/registry.js';
import { compileSimplePath } from '../../src/search/simple-path.js';
import { startTestServer } from '../helpers/server.js';

/**
 * The fast path of plain SearchParameter paths gives exactly what the FHIRPath engine gives,
 * on every fixture and every parameter of its type that takes the fast path.
 */
t.test('plain-path search expressions evaluate as FHIRPath does on every fixture', async (t) => {
  const s = await startTestServer(t);
  const registry = new SearchRegistry(undefined);
  await registry.refresh(true);
  const dir = new URL('../../fixtures/', import.meta.url);
  let compared = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const resource = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    for (const param of registry.params(resource.resourceType)) {
      const fast = param.expression ? compileSimplePath(param.expression) : undefined;
      if (!fast) continue;
      const engine = fhirpath.compile(param.expression!, r4Model);
      t.same(fast(resource), engine(resource), `${file}: ${param.code} (${param.expression})`);
      compared++;
    }
  }
  t.ok(compared > 50, `${compared} evaluations compared`);
});

t.test('choice-type and filtered expressions are left to the FHIRPath engine', async (t) => {
  t.equal(compileSimplePath('Observation.value'), undefined);
  t.equal(compileSimplePath("Patient.telecom.where(system='email')"), undefined);
  t.equal(compileSimplePath('(Patient.deceased as dateTime)'), undefined);
  t.equal(compileSimplePath('Patient.nonsense'), undefined);
  t.ok(compileSimplePath('Patient.name.family | Patient.address.city'));
  t.ok(compileSimplePath("DocumentReference.subject.where(reference.matches('(^|/)Patient/[A-Za-z0-9.-]+(/_history/.*)?$'))"));
  t.equal(compileSimplePath("Patient.name.where(reference.matches('x'))"), undefined, 'only references have a reference');
});
