import t from 'tap';
import type { CommandStartedEvent, Document } from 'mongodb';
import { generateData, mrn, patientId } from '../../scripts/generate-data.js';
import { searchBundle } from '../helpers/search.js';
import { startTestServer } from '../helpers/server.js';

/**
 * The benchmark's search shapes (scripts/bench/search.ts), each checked with
 * explain('executionStats') on the queries the server really sends: the index each uses, and
 * index keys and documents examined within a small multiple of the page. (On SecantusDB explain
 * replays the plan MongoDB would choose; README, "what the embedded engine does".)
 */
const PAGE = 21;

interface Shape {
  url: string;
  collection: string;
  index: RegExp;
  /** The most keys and documents one query may examine. */
  most: number;
}

function shapes(docPatient: string, docType: string): Shape[] {
  return [
  { url: `Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|${mrn(42)}`, collection: 'Patient', index: /^sp_identifier$/, most: 2 },
  { url: 'Patient?birthdate=ge1950-01-01&birthdate=lt1951-01-01&_count=20', collection: 'Patient', index: /^sp_birthdate_(lo|hi)$/, most: 2 * PAGE },
  { url: `DocumentReference?patient=${docPatient}&type=http://loinc.org|${docType}&date=ge2015-01-01&_sort=-date`, collection: 'DocumentReference', index: /^sp_patient_date$/, most: 2 * PAGE },
  { url: `Patient?_id=${patientId(42)}&_revinclude=DocumentReference:subject`, collection: 'DocumentReference', index: /^sp_subject$/, most: PAGE },
  { url: `DocumentReference?subject:Patient.identifier=${mrn(42)}`, collection: 'DocumentReference', index: /^sp_subject$/, most: PAGE },
  { url: 'DocumentReference?status=current&_count=20', collection: 'DocumentReference', index: /^(sp_status|_id_)$/, most: 2 * PAGE },
  { url: 'Patient?family=smi&_count=20', collection: 'Patient', index: /^sp_family$/, most: 4 * PAGE },
  // A long-tail parameter (shared index): one city in eight, so MongoDB may as well walk `_id` and filter.
  // Instants (layout.ts): one index over the start serves both bounds and both orders.
  { url: 'AuditEvent?date=ge2000-01-01&_sort=-date&_count=20', collection: 'AuditEvent', index: /^sp_date_lo$/, most: 2 * PAGE },
  { url: 'Patient?_lastUpdated=ge2000-01-01&_sort=-_lastUpdated&_count=20', collection: 'Patient', index: /^sp__lastUpdated_lo$/, most: 2 * PAGE },
  { url: 'Patient?address-city=lyon&_count=20', collection: 'Patient', index: /^(spx_value|_id_)$/, most: 8 * PAGE },
  ];
}

function indexNames(plan: Document | undefined): string[] {
  if (!plan) return [];
  const inputs = [plan.inputStage, ...(plan.inputStages ?? [])].filter(Boolean);
  return [...(plan.indexName ? [plan.indexName as string] : []), ...inputs.flatMap(indexNames)];
}

t.test('every benchmark shape is an index walk of about a page', async (t) => {
  const s = await startTestServer(t, { client: { monitorCommands: true } });
  await generateData(s.db, { patients: 1000, documents: 3000, auditEvents: 1000 }, s.config.baseUrl, () => {});
  const server = await startTestServer(t, { dbName: s.db.databaseName, client: { monitorCommands: true } });
  const document = (await s.db.collection('DocumentReference').findOne({}))!;
  const sent: CommandStartedEvent[] = [];
  server.client.on('commandStarted', (e) => {
    if (e.commandName === 'find') sent.push(e);
  });
  for (const shape of shapes(document.resource.subject.reference, document.resource.type.coding[0].code)) {
    sent.length = 0;
    const bundle = await searchBundle(server, shape.url);
    t.ok((bundle.entry ?? []).length > 0, `${shape.url}: has matches`);
    const queries = sent.filter((e) => e.command.find === shape.collection);
    t.ok(queries.length > 0, `${shape.url}: queried ${shape.collection}`);
    const used: string[] = [];
    for (const query of queries) {
      const { filter, sort, limit } = query.command;
      const explained: Document = await server.db.collection(shape.collection).find(filter, { sort, limit }).explain('executionStats');
      used.push(...indexNames(explained.queryPlanner.winningPlan));
      const stats = explained.executionStats;
      t.ok(stats.totalKeysExamined <= shape.most && stats.totalDocsExamined <= shape.most,
        `${shape.url}: ${stats.totalKeysExamined} keys, ${stats.totalDocsExamined} documents examined (at most ${shape.most})`);
    }
    t.ok(used.some((name) => shape.index.test(name)), `${shape.url}: walks ${shape.index} (${[...new Set(used)].join(', ')})`);
    if (!shape.url.includes('include')) {
      // A page's rows are read without their stored search values (about half of a document).
      const projections = queries.filter((q) => q.command.limit !== undefined).map((q) => (q.command.projection ?? {}) as Document);
      t.ok(projections.length > 0 && projections.every((p) => p.resource === 1 && !('sp' in p) && !('spx' in p)),
        `${shape.url}: page rows read with a projection (${JSON.stringify(projections[0] ?? null)})`);
    }
  }
});
