import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';
import { testIssuer } from '../helpers/tokens.js';

const issuer = await testIssuer();

/** The value of one sample line of the Prometheus text, e.g. `fhir_request_duration_seconds_count{interaction="read",status="2xx"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(s: TestServer, headers: Record<string, string> = {}) {
  return s.request({ method: 'GET', url: '/metrics', headers });
}

t.test('after FHIR requests, /metrics counts them by interaction and status class, and shows database, validation, audit and process metrics', async (t) => {
  // As src/db/client.ts makes the server's client when metrics are on.
  const s = await startTestServer(t, { client: { monitorCommands: true } });
  const created = await s.request({
    method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS,
    payload: { resourceType: 'Patient', id: 'x', name: [{ family: 'Quillfeather' }], identifier: [{ system: 'urn:mrn', value: 'MRN-77120' }] },
  });
  t.equal(created.statusCode, 201);
  const id = s.json(created).id as string;
  await s.request({ method: 'GET', url: `/fhir/Patient/${id}` });
  await s.request({ method: 'GET', url: `/fhir/Patient/${id}` });
  await s.request({ method: 'GET', url: `/fhir/Patient/${id}/_history/1` });
  await s.request({ method: 'GET', url: '/fhir/Patient/no-such-patient-4411' });
  await s.request({ method: 'GET', url: '/fhir/Patient?family=Quillfeather&identifier=urn:mrn|MRN-77120' });
  await s.request({ method: 'PUT', url: `/fhir/Patient/${id}`, headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient', id, active: true } });
  await s.request({ method: 'GET', url: `/fhir/Patient/${id}/_history` });
  await s.request({ method: 'GET', url: '/fhir/metadata' });
  await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient' } });
  await s.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Bundle', type: 'batch', entry: [] } });
  await s.request({ method: 'GET', url: '/healthz' });

  const response = await scrape(s);
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = response.body;
  const count = (interaction: string, status: string) => sample(text, `fhir_request_duration_seconds_count{interaction="${interaction}",status="${status}"}`);
  t.equal(count('create', '2xx'), 1);
  t.equal(count('read', '2xx'), 2);
  t.equal(count('read', '4xx'), 1);
  t.equal(count('vread', '2xx'), 1);
  t.equal(count('search-type', '2xx'), 1);
  t.equal(count('update', '2xx'), 1);
  t.equal(count('history-instance', '2xx'), 1);
  t.equal(count('capabilities', '2xx'), 1);
  t.equal(count('$validate', '2xx'), 1);
  t.equal(count('batch', '2xx'), 1);
  t.ok(text.includes('fhir_request_duration_seconds_bucket{le="0.005",interaction="read",status="2xx"}'), 'latency buckets per interaction');

  const interactions = new Set([...text.matchAll(/interaction="([^"]*)"/g)].map((m) => m[1]));
  t.same([...interactions].sort(), ['$validate', 'batch', 'capabilities', 'create', 'history-instance', 'read', 'search-type', 'update', 'vread'],
    'only FHIR interactions: no probe, no scrape');
  const commands = (command: string) => sample(text, `fhir_db_command_duration_seconds_count{command="${command}",outcome="ok"}`) ?? 0;
  t.ok(commands('find') >= 3, 'reads and searches: find commands');
  t.ok(commands('insert') >= 2, 'writes and audit flushes: insert commands');
  t.ok(commands('update') >= 1, 'the update replaced the current document');
  t.ok(sample(text, 'fhir_validation_duration_seconds_count')! >= 3, 'create, update and $validate validated');
  t.ok(sample(text, 'fhir_audit_batch_size_count')! >= 1, 'audit flushes');
  t.ok(sample(text, 'fhir_audit_batch_size_sum')! >= 11, 'every audited request is in a batch');
  t.ok(sample(text, 'process_cpu_user_seconds_total')! > 0, 'default process metrics');
  t.ok(text.includes('nodejs_eventloop_lag_seconds'), 'event-loop lag');

  for (const secret of [id, 'no-such-patient-4411', 'Quillfeather', 'MRN-77120', 'urn:mrn', 'Patient/', '/fhir', '?']) {
    t.notOk(text.includes(secret), `no "${secret}" in the metrics`);
  }
});

t.test('a conditional update is labelled update, a transaction transaction, an unknown path or operation without its name', async (t) => {
  const s = await startTestServer(t);
  await s.request({ method: 'PUT', url: '/fhir/Patient?identifier=urn:mrn|5', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '5' }] } });
  await s.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: { resourceType: 'Bundle', type: 'transaction', entry: [] } });
  await s.request({ method: 'GET', url: '/fhir/nowhere/at/all/here' });
  await s.request({ method: 'GET', url: '/fhir/Patient/$everything-but-this' });
  const text = (await scrape(s)).body;
  t.equal(sample(text, 'fhir_request_duration_seconds_count{interaction="update",status="2xx"}'), 1);
  t.equal(sample(text, 'fhir_request_duration_seconds_count{interaction="transaction",status="2xx"}'), 1);
  t.equal(sample(text, 'fhir_request_duration_seconds_count{interaction="unknown",status="4xx"}'), 1, 'an unmatched path, without its URL');
  t.equal(sample(text, 'fhir_request_duration_seconds_count{interaction="operation",status="5xx"}'), 1, 'an operation the server lacks, not by its name');
  t.notOk(text.includes('nowhere'));
  t.notOk(text.includes('everything'));
});

t.test('with an issuer, /metrics is off unless METRICS_ENABLED=true, then served without an access token', async (t) => {
  const off = await startTestServer(t, { env: issuer.env });
  t.equal((await scrape(off)).statusCode, 401, 'no such public route: the token check refuses it');
  t.equal(off.config.metrics.enabled, false);
  const on = await startTestServer(t, { env: { ...issuer.env, METRICS_ENABLED: 'true' } });
  const response = await scrape(on);
  t.equal(response.statusCode, 200);
  t.ok(response.body.includes('fhir_request_duration_seconds'));
});

t.test('METRICS_ENABLED=false: no /metrics even with authorization off', async (t) => {
  const s = await startTestServer(t, { env: { METRICS_ENABLED: 'false' } });
  t.equal((await scrape(s)).statusCode, 404);
});

t.test('METRICS_TOKEN: a scrape without that bearer token is refused with 401', async (t) => {
  const token = 'scrape-secret-0123456789';
  const s = await startTestServer(t, { env: { ...issuer.env, METRICS_ENABLED: 'true', METRICS_TOKEN: token } });
  const none = await scrape(s);
  t.equal(none.statusCode, 401);
  t.equal(s.json(none).issue[0].code, 'login');
  t.equal((await scrape(s, { authorization: 'Bearer wrong-token-0123456789' })).statusCode, 401);
  const good = await scrape(s, { authorization: `Bearer ${token}` });
  t.equal(good.statusCode, 200);
  t.ok(good.body.includes('fhir_audit_batch_size'));
});

t.test('metrics settings: on by default only without an issuer; bad values are refused at start-up', async (t) => {
  t.equal(loadConfig({}).metrics.enabled, true);
  t.equal(loadConfig({ ...issuer.env }).metrics.enabled, false);
  t.throws(() => loadConfig({ METRICS_ENABLED: 'yes' }), /METRICS_ENABLED must be true or false/);
  t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 16 characters/);
});
