import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadFiles, type LoadOptions } from '../../scripts/load/index.js';
import { forward, stubServer, tempDir } from '../helpers/http-stub.js';
import { countOf, startListeningServer } from '../helpers/listening.js';

const SAMPLE = new URL('../../fixtures/sample/', import.meta.url).pathname;
const options = (base: string, extra: Partial<LoadOptions> = {}): LoadOptions => ({ base, concurrency: 3, batchSize: 100, retries: 3, backoffMs: 20, ...extra });

t.test('NDJSON lines are sent in batches of --batch-size', async (t) => {
  const s = await startListeningServer(t);
  const dir = tempDir(t);
  const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `nd-${i}`, birthDate: '1990-01-01' }));
  writeFileSync(join(dir, 'patients.ndjson'), lines.join('\n') + '\n');
  const stub = await stubServer(t, (_n, body, _req, res) => forward(s.url, body, res));
  const report = await loadFiles([dir], options(stub.url, { batchSize: 5 }));
  t.equal(report.loaded, 12);
  t.same(stub.seen.map((b) => [b.type, b.entry.length]).sort(), [['batch', 2], ['batch', 5], ['batch', 5]]);
  t.same(stub.seen.flatMap((b) => b.entry.map((e: any) => e.request.method)), Array(12).fill('PUT'));
  t.equal(await countOf(s, 'Patient?birthdate=1990-01-01'), 12);
});

t.test('a 503 with Retry-After is retried after the wait, and then the bundle loads', async (t) => {
  const s = await startListeningServer(t);
  const stub = await stubServer(t, (n, body, _req, res) => {
    if (n === 1) res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('busy');
    else void forward(s.url, body, res);
  });
  const started = Date.now();
  const report = await loadFiles([join(SAMPLE, '02-outpatient-clinic.batch.json')], options(stub.url, { backoffMs: 1 }));
  t.ok(Date.now() - started >= 1000, 'waited as Retry-After said');
  t.equal(stub.seen.length, 2);
  t.equal(report.retries, 1);
  t.equal(report.loaded, 9);
  t.equal(await countOf(s, 'Patient'), 3);
});

t.test('a dropped connection is retried', async (t) => {
  const s = await startListeningServer(t);
  const stub = await stubServer(t, (n, body, req, res) => {
    if (n === 1) req.socket.destroy();
    else void forward(s.url, body, res);
  });
  const report = await loadFiles([join(SAMPLE, '03-consent-opt-out.json')], options(stub.url));
  t.equal(report.retries, 1);
  t.equal(report.loaded, 1);
  t.equal(await countOf(s, 'Consent'), 1);
});

t.test('batch entries that answer 429 are sent again on their own', async (t) => {
  const stub = await stubServer(t, (n, body, _req, res) => {
    const status = (i: number) => (n === 1 && i === 1 ? '429 Too Many Requests' : '201 Created');
    res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({
      resourceType: 'Bundle', type: 'batch-response', entry: body.entry.map((_: unknown, i: number) => ({ response: { status: status(i) } })),
    }));
  });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'three.ndjson'), ['a', 'b', 'c'].map((id) => JSON.stringify({ resourceType: 'Patient', id })).join('\n'));
  const report = await loadFiles([dir], options(stub.url));
  t.equal(report.loaded, 3);
  t.equal(report.failed, 0);
  t.equal(stub.seen.length, 2);
  t.same(stub.seen[1].entry.map((e: any) => e.resource.id), ['b']);
});

t.test('a server that stays unavailable: the retries run out and the failure says why', async (t) => {
  const stub = await stubServer(t, (_n, _body, _req, res) => {
    res.writeHead(503, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({
      resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'down for maintenance' }],
    }));
  });
  const report = await loadFiles([join(SAMPLE, '04-registrations.Patient.ndjson')], options(stub.url, { retries: 2, backoffMs: 5 }));
  t.equal(stub.seen.length, 3);
  t.equal(report.failed, 12);
  t.match(report.failures, [{ where: 'lines 1–12', status: 503, reason: 'down for maintenance' }]);
});

t.test('a server that cannot be reached after the retries stops the load instead of waiting out every file', async (t) => {
  const stub = await stubServer(t, (_n, _body, req) => void req.socket.destroy());
  const report = await loadFiles([join(SAMPLE, '04-registrations.Patient.ndjson')], options(stub.url, { concurrency: 1, batchSize: 5, retries: 1, backoffMs: 5 }));
  t.equal(stub.seen.length, 2, 'one unit, sent twice');
  t.match(report.stopped, /could not be reached/);
  t.equal(report.failed, 5);
  t.equal(report.total - report.loaded - report.failed, 7, 'the rest was not sent');
});
