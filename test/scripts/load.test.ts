import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadFiles, type LoadOptions } from '../../scripts/load/index.js';
import { tempDir } from '../helpers/http-stub.js';
import { countOf, startListeningServer } from '../helpers/listening.js';
import { FHIR_JSON_HEADERS } from '../helpers/server.js';

// The loader runs as a process in some tests (about 3 s each on a busy machine).
t.setTimeout(120_000);

const SAMPLE = new URL('../../fixtures/sample/', import.meta.url).pathname;
const MRN = 'http://riverside-general.example.org/fhir/mrn';
const options = (base: string, extra: Partial<LoadOptions> = {}): LoadOptions => ({ base, concurrency: 3, batchSize: 100, retries: 3, backoffMs: 20, ...extra });

/** Every resource of the sample folder (bundle entries, plain resources, NDJSON lines). */
function sampleResources(): any[] {
  const resources: any[] = [];
  for (const name of readdirSync(SAMPLE)) {
    const text = readFileSync(join(SAMPLE, name), 'utf8');
    if (name.endsWith('.ndjson')) resources.push(...text.split('\n').filter(Boolean).map((line) => JSON.parse(line)));
    else {
      const parsed = JSON.parse(text);
      resources.push(...(parsed.resourceType === 'Bundle' ? parsed.entry.map((e: any) => e.resource) : [parsed]));
    }
  }
  return resources;
}

/** The loader as a person runs it: its exit code and what it printed. */
function runLoader(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/load.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

t.test('loading the sample folder makes its 19 patients, 23 documents and 4 Consents searchable; loading it again adds none', async (t) => {
  const s = await startListeningServer(t);
  const report = await loadFiles([SAMPLE], options(s.url));
  t.same(report.failures, []);
  t.equal(report.files, 5);
  t.equal(report.total, 46);
  t.equal(report.loaded, 46);
  t.equal(await countOf(s, 'Patient'), 19);
  t.equal(await countOf(s, 'DocumentReference'), 23);
  t.equal(await countOf(s, 'Consent'), 4);
  // The transaction's urn:uuid links now point at the patients it created by MRN.
  t.equal(await countOf(s, `DocumentReference?subject:Patient.identifier=${MRN}|100234`), 3);
  t.equal(await countOf(s, 'Consent?patient.identifier=' + encodeURIComponent(`${MRN}|101305`)), 1);
  t.equal(await countOf(s, 'DocumentReference?type=http://loinc.org|18842-5'), 2);

  const again = await loadFiles([SAMPLE], options(s.url));
  t.equal(again.loaded, 46);
  t.equal(await countOf(s, 'Patient'), 19);
  t.equal(await countOf(s, 'DocumentReference'), 23);
});

t.test('every resource of the sample passes $validate without errors', async (t) => {
  const s = await startListeningServer(t);
  const resources = sampleResources();
  t.equal(resources.length, 46);
  for (const resource of resources) {
    const response = await s.request({ method: 'POST', url: `/fhir/${resource.resourceType}/$validate`, headers: FHIR_JSON_HEADERS, payload: resource });
    const errors = s.json(response).issue.filter((i: any) => i.severity === 'error' || i.severity === 'fatal');
    t.same(errors, [], `${resource.resourceType}/${resource.id ?? resource.identifier?.[0]?.value}`);
  }
});

t.test('a bad resource is reported by file and line with the server\'s reason, the good ones load, and the exit code is 1', async (t) => {
  const s = await startListeningServer(t);
  const dir = tempDir(t);
  const good = (id: string) => JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Lindgren' }] });
  const noStatus = JSON.stringify({ resourceType: 'DocumentReference', id: 'no-status', content: [{ attachment: { contentType: 'text/plain' } }] });
  writeFileSync(join(dir, 'mixed.ndjson'), [good('good-1'), noStatus, '{not json', good('good-2')].join('\n') + '\n');
  const { code, stdout } = await runLoader([dir, '--base', s.url, '--retries', '0']);
  t.equal(code, 1);
  t.match(stdout, /loaded 2 of 4 resources from 1 file\(s\).*2 failed/);
  t.match(stdout, /mixed\.ndjson line 2: 422 .*DocumentReference\.status/);
  t.match(stdout, /mixed\.ndjson line 3: not JSON/);
  t.equal(await countOf(s, 'Patient?_id=good-1,good-2'), 2);
  t.equal(await countOf(s, 'DocumentReference'), 0);
});

t.test('a transaction with a bad entry is reported as a whole, naming the entry, and loads nothing', async (t) => {
  const s = await startListeningServer(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ward.json'), JSON.stringify({
    resourceType: 'Bundle', type: 'transaction', entry: [
      { resource: { resourceType: 'Patient', id: 'tx-1' }, request: { method: 'PUT', url: 'Patient/tx-1' } },
      { resource: { resourceType: 'Patient', id: 'tx-2', gender: 'sometimes' }, request: { method: 'PUT', url: 'Patient/tx-2' } },
    ],
  }));
  const report = await loadFiles([dir], options(s.url));
  t.equal(report.loaded, 0);
  t.equal(report.failed, 2);
  t.equal(report.failures.length, 1);
  t.match(report.failures[0], { file: join(dir, 'ward.json'), where: 'transaction, entry 2', status: 422 });
  t.match(report.failures[0].reason, /gender/);
  t.equal(await countOf(s, 'Patient'), 0);
});

t.test('a collection bundle and a plain resource are stored as batch entries: PUT with an id, POST without', async (t) => {
  const s = await startListeningServer(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.json'), JSON.stringify({
    resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'kept-id' } }, { resource: { resourceType: 'Patient', name: [{ family: 'Anon' }] } }],
  }));
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ resourceType: 'Patient', id: 'plain-one' }));
  const report = await loadFiles([dir], options(s.url));
  t.same(report.failures, []);
  t.equal(report.loaded, 3);
  t.equal(await countOf(s, 'Patient?_id=kept-id,plain-one'), 2);
  t.equal(await countOf(s, 'Patient?family=Anon'), 1);
});

t.test('wrong arguments and missing paths exit 2 with a message', async (t) => {
  const none = await runLoader([]);
  t.equal(none.code, 2);
  t.match(none.stderr, /name at least one file or folder/);
  const missing = await runLoader(['/nonexistent/folder', '--base', 'http://127.0.0.1:9/fhir']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /ENOENT/);
  const badCount = await runLoader([SAMPLE, '--concurrency', 'zero']);
  t.equal(badCount.code, 2);
  t.match(badCount.stderr, /--concurrency must be a whole number/);
});
