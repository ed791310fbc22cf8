/**
 * A second, independent reader of everything the server answers: each kind of response is
 * fetched over real HTTP (test/helpers/responses.ts), saved, and parsed by HAPI FHIR's R4 JSON
 * parser with its strict error handler (test/clients/hapi-parse, one JVM for all files). An
 * element R4 does not know, a value of the wrong JSON type or an invalid primitive is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { collectResponses } from '../helpers/responses.js';

const PARSER = join(import.meta.dirname, 'hapi-parse', 'target');
const BUILD = 'mvn -q -B -f test/clients/hapi-parse/pom.xml package';

if (!existsSync(join(PARSER, 'classpath.txt'))) {
  // CI builds it in .ci/run: there a missing parser is a failure, never a skip.
  if (process.env.CI) t.fail(`the HAPI parser is not built (${BUILD})`);
  else t.plan(0, `the HAPI parser is not built: run \`${BUILD}\` (Java 17 and Maven) to include this test`);
} else {
  t.test('every kind of response the server sends parses with HAPI\'s strict R4 parser', run);
}

async function run(t: Test) {
  const folder = mkdtempSync(join(tmpdir(), 'fhir-responses-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const saved = new Set<string>();
  for (const { name, body } of await collectResponses(t)) {
    writeFileSync(join(folder, `${name}.json`), body);
    saved.add(name);
  }

  // Controls: what the strict parser must refuse, so a pass above means something.
  const controls = {
    'control-unknown-element': { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', nickname: 'Pete' } }] },
    'control-invalid-date': { resourceType: 'Patient', birthDate: '1974-13-45' },
    'control-wrong-json-type': { resourceType: 'OperationOutcome', issue: { severity: 'error', code: 'invalid' } },
    'control-unknown-code': { resourceType: 'Bundle', type: 'search-result' },
  };
  for (const [name, body] of Object.entries(controls)) writeFileSync(join(folder, `${name}.json`), JSON.stringify(body));

  const classpath = `${join(PARSER, 'classes')}:${readFileSync(join(PARSER, 'classpath.txt'), 'utf8').trim()}`;
  const result = await promisify(execFile)('java', ['-cp', classpath, 'parsecheck.ParseAll', folder]).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
    if (error.stdout === undefined) throw error;
    return { stdout: error.stdout, stderr: error.stderr ?? '' };
  });
  const lines = new Map(result.stdout.split('\n').filter(Boolean).map((line) => {
    const [verdict, file, ...rest] = line.split(' ');
    return [file.replace(/\.json$/, ''), { verdict, detail: rest.join(' ') }] as const;
  }));
  t.equal(lines.size, saved.size + Object.keys(controls).length, `the parser read every file ${result.stderr}`);
  for (const name of Object.keys(controls)) t.equal(lines.get(name)?.verdict, 'error', `${name} is refused: ${lines.get(name)?.detail}`);
  for (const name of saved) {
    const line = lines.get(name);
    t.equal(line?.verdict, 'ok', `${name} parses strictly as R4${line?.verdict === 'error' ? `: ${line.detail}` : ''}`);
  }
}
