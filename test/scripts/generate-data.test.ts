import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { generateData, population, writeDataFiles, type DataSize } from '../../scripts/generate-data.js';
import { tempDir } from '../helpers/http-stub.js';
import { countOf, startListeningServer } from '../helpers/listening.js';

// The generator runs as a process in one test (a few seconds on a busy machine).
t.setTimeout(120_000);

const SIZE: DataSize = { patients: 30, documents: 60, consents: 10, auditEvents: 20 };

const contents = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
const lines = (dir: string, type: string) => readFileSync(join(dir, `${type}.ndjson`), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));

t.test('the same seed writes the same files; another seed other data', async (t) => {
  const [a, b, c] = [tempDir(t), tempDir(t), tempDir(t)];
  await writeDataFiles(a, SIZE, 7);
  await writeDataFiles(b, SIZE, 7);
  await writeDataFiles(c, SIZE, 8);
  t.same(Object.keys(contents(a)), ['AuditEvent.ndjson', 'Consent.ndjson', 'DocumentReference.ndjson', 'Patient.ndjson']);
  t.same(contents(a), contents(b));
  t.not(contents(a)['Patient.ndjson'], contents(c)['Patient.ndjson']);
  t.equal(lines(a, 'Patient').length, 30);
  t.equal(lines(a, 'AuditEvent').length, 20);
  t.notOk(lines(a, 'AuditEvent').some((event) => 'id' in event), 'audit events carry no id: they can only be POSTed');
});

t.test('adding consents and audit events leaves the patients and documents as they were', async (t) => {
  const plain = [...population({ patients: 30, documents: 60 })];
  const more = [...population(SIZE)];
  t.same(more.slice(0, plain.length), plain);
  t.equal(more.length, 120);
});

t.test('through the API: generate-data --via-api loads the population, searchable', async (t) => {
  const s = await startListeningServer(t);
  const args = ['--patients', '30', '--documents', '60', '--consents', '10', '--audit-events', '20', '--via-api', s.url];
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/generate-data.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (exit) => resolve({ code: exit ?? -1, stdout: out }));
  });
  t.equal(code, 0, stdout);
  t.match(stdout, /loaded 120 of 120 resources/);
  t.equal(await countOf(s, 'Patient'), 30);
  t.equal(await countOf(s, 'DocumentReference'), 60);
  t.equal(await countOf(s, 'Consent'), 10);
  // The server's own trail records today's requests; the generated events are from 2015–2024.
  t.equal(await countOf(s, 'AuditEvent?date=lt2025-01-01'), 20);
});

t.test('straight into the database: the same resources as the files, readable and searchable through the API', async (t) => {
  const s = await startListeningServer(t);
  await generateData(s.db, SIZE, s.config.baseUrl, () => {});
  const dir = tempDir(t);
  await writeDataFiles(dir, SIZE);
  const read = async (path: string) => {
    const { meta, ...resource } = s.json(await s.request({ method: 'GET', url: `/fhir/${path}` }));
    t.ok(meta.versionId);
    return resource;
  };
  t.same(await read('Patient/pat-0000007'), lines(dir, 'Patient')[7]);
  t.same(await read('Consent/consent-0000003'), lines(dir, 'Consent')[3]);
  const { id, ...event } = (await read('AuditEvent/audit-0000004')) as { id: string };
  t.equal(id, 'audit-0000004');
  t.same(event, lines(dir, 'AuditEvent')[4]);
  const subject = lines(dir, 'DocumentReference')[0].subject.reference;
  const expected = lines(dir, 'DocumentReference').filter((d) => d.subject.reference === subject).length;
  t.equal(await countOf(s, `DocumentReference?patient=${subject}`), expected);
  t.equal(await countOf(s, 'Consent'), 10);
  t.equal(await countOf(s, 'AuditEvent?date=lt2025-01-01'), 20);
});
