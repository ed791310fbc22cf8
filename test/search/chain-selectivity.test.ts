import t from 'tap';
import type { CommandStartedEvent, Document } from 'mongodb';
import { asCaller, RESTRICTED } from '../helpers/access.js';
import { createAll, matchIds } from '../helpers/search.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// With the cap at 20, "large" is more than 20 matches: 59 documents of type 28570-0 and 30
// female patients are large; the kims (4), the consult notes (5) and a compartment are small.
const CAP = { MAX_CHAIN_MATCHES: '20' };
const LOINC = 'http://loinc.org';
const pad = (n: number) => String(n).padStart(2, '0');

/** Hidden from a caller not granted the restricted label: patients p02 and p06, documents c05 and n1. */
const HIDDEN = ['p02', 'p06', 'c05', 'n1'];
const labelled = <T extends { id: string }>(r: T) => (HIDDEN.includes(r.id) ? { ...r, meta: RESTRICTED } : r);

const patients = Array.from({ length: 60 }, (_, n) => labelled({
  resourceType: 'Patient', id: `p${pad(n)}`, gender: n % 2 === 0 ? 'female' : 'male',
  name: [{ family: [3, 4, 5, 6].includes(n) ? 'Kim' : 'Lee' }],
}));
const doc = (id: string, patient: string, code: string) => labelled({
  resourceType: 'DocumentReference', id, status: 'current', subject: { reference: `Patient/${patient}` },
  type: { coding: [{ system: LOINC, code }] }, content: [{ attachment: { contentType: 'text/plain' } }],
});
// Every patient but p04 has a discharge summary (28570-0); p04 has another kind of document.
const summaries = patients.filter((p) => p.id !== 'p04').map((p) => doc(`c${p.id.slice(1)}`, p.id, '28570-0'));
const notes = [['n1', 'p00'], ['n2', 'p01'], ['n3', 'p02'], ['n4', 'p04'], ['n5', 'p07']].map(([id, p]) => doc(id, p, '11488-4'));

const HAS_LARGE_INNER = 'Patient?_has:DocumentReference:subject:type=28570-0&family=kim';
const CHAIN_LARGE_INNER = 'DocumentReference?subject:Patient.gender=female&type=11488-4';
const NESTED = 'DocumentReference?type=11488-4&subject:Patient._has:DocumentReference:subject:type=28570-0';
const IN_COMPARTMENT = 'Patient/p00/DocumentReference?subject:Patient.gender=female';
const HAS_SMALL_INNER = 'Patient?_has:DocumentReference:subject:type=11488-4';

/** A caller not granted the restricted label: HIDDEN is out of its sight. */
const narrowed = asCaller({});

async function problem(s: TestServer, url: string): Promise<{ status: number; issue: any }> {
  const response = await s.request({ method: 'GET', url: `/fhir/${url}` });
  return { status: response.statusCode, issue: s.json(response).issue?.[0] };
}

/** Walks an explain plan and returns the stages' names. */
function stages(plan: Document): string[] {
  const inputs = [plan.inputStage, ...(plan.inputStages ?? [])].filter(Boolean);
  return [plan.stage, ...inputs.flatMap(stages)];
}

t.test('chains and _has drive from the selective side', async (t) => {
  const seeded = await startTestServer(t, { env: CAP });
  await createAll(seeded, [...patients, ...summaries, doc('o04', 'p04', '34133-9'), ...notes]);
  const dbName = seeded.db.databaseName;
  const capped = seeded;
  const uncapped = await startTestServer(t, { dbName });

  t.test('_has with a large inner set and a small outer one answers the matches', async (t) => {
    t.same(await matchIds(capped, HAS_LARGE_INNER), ['p03', 'p05', 'p06']);
  });

  t.test('a chain with a large inner set and a small outer one answers the matches', async (t) => {
    t.same(await matchIds(capped, CHAIN_LARGE_INNER), ['n1', 'n3', 'n4']);
  });

  t.test('a chain over a _has, both large on their own, is driven by the outer clauses', async (t) => {
    t.same(await matchIds(capped, NESTED), ['n1', 'n2', 'n3', 'n5']);
  });

  t.test('a compartment is an outer condition too', async (t) => {
    t.same(await matchIds(capped, IN_COMPARTMENT), ['c00', 'n1']);
  });

  t.test('a small inner set still drives', async (t) => {
    t.same(await matchIds(capped, HAS_SMALL_INNER), ['p00', 'p01', 'p02', 'p04', 'p07']);
  });

  t.test('both sides large is 400 too-costly naming both', async (t) => {
    const has = await problem(capped, 'Patient?_has:DocumentReference:subject:type=28570-0&gender=female');
    t.equal(has.status, 400);
    t.match(has.issue, { code: 'too-costly', expression: ['_has:DocumentReference:subject:type'] });
    t.match(has.issue.diagnostics, /inner search of _has:DocumentReference:subject:type and the other conditions on Patient match more than 20/);
    const chain = await problem(capped, 'DocumentReference?subject:Patient.gender=female&type=28570-0');
    t.equal(chain.status, 400);
    t.match(chain.issue.diagnostics, /inner search of subject:Patient\.gender and the other conditions on DocumentReference match more than 20/);
  });

  t.test('the results equal those of a cap no side reaches', async (t) => {
    for (const url of [HAS_LARGE_INNER, CHAIN_LARGE_INNER, NESTED, IN_COMPARTMENT, HAS_SMALL_INNER]) {
      t.same(await matchIds(capped, url), await matchIds(uncapped, url), url);
    }
  });

  t.test('the access filter narrows the inner, outer and candidate queries', async (t) => {
    const restricted = await startTestServer(t, { dbName, env: CAP, app: narrowed });
    const restrictedUncapped = await startTestServer(t, { dbName, app: narrowed });
    const expected: [string, string[], string][] = [
      [HAS_LARGE_INNER, ['p03'], 'p05 has only a hidden summary; p06 is hidden'],
      [CHAIN_LARGE_INNER, ['n4'], 'n1 is hidden; n3 points at hidden p02'],
      [NESTED, ['n2', 'n5'], 'n1 is hidden; n3 points at hidden p02'],
      [HAS_SMALL_INNER, ['p01', 'p04', 'p07'], 'p00 has only hidden n1; p02 is hidden'],
    ];
    for (const [url, ids, why] of expected) {
      t.same(await matchIds(restricted, url), ids, `${url}: ${why}`);
      t.same(await matchIds(restrictedUncapped, url), ids, `${url}: the same with the inner set driving`);
    }
  });

  t.test('the per-candidate check walks the reference index', async (t) => {
    const watched = await startTestServer(t, { dbName, env: CAP, client: { monitorCommands: true } });
    const finds: CommandStartedEvent[] = [];
    watched.client.on('commandStarted', (event) => {
      if (event.commandName === 'find') finds.push(event);
    });
    const explainFind = async (collection: string, has: (filter: Document) => boolean) => {
      const found = finds.find((e) => e.command.find === collection && has(e.command.filter));
      t.ok(found, `a find on ${collection} checked the candidates`);
      return watched.db.collection(collection).find(found!.command.filter).explain('executionStats');
    };

    t.same(await matchIds(watched, HAS_LARGE_INNER), ['p03', 'p05', 'p06']);
    const has = await explainFind('DocumentReference', (f) => 'sp.subject' in f);
    t.ok(stages(has.queryPlanner.winningPlan).includes('IXSCAN'), 'the documents pointing at the candidates are found through an index');
    t.ok(has.executionStats.totalKeysExamined <= 10, `${has.executionStats.totalKeysExamined} index keys examined for 4 candidates, not the 59 summaries`);

    finds.length = 0;
    t.same(await matchIds(watched, CHAIN_LARGE_INNER), ['n1', 'n3', 'n4']);
    const chain = await explainFind('Patient', (f) => '_id' in f);
    t.ok(stages(chain.queryPlanner.winningPlan).includes('IXSCAN'), 'the patients the candidates point at are read through an index');
    t.ok(chain.executionStats.totalKeysExamined <= 10, `${chain.executionStats.totalKeysExamined} index keys examined for 5 targets, not the 30 women`);
  });
});
