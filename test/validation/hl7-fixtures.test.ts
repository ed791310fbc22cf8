import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { javaAvailable, startHl7Validator, type Hl7Issue } from '../../scripts/validation-corpus/hl7-validator.js';

/**
 * The fixtures are what demos and tests call valid: HL7's own validator must agree, with its
 * strictest settings (unknown extensions and wrong codings' displays are errors). Offline it
 * cannot look into LOINC and the like, nor into the US Core value sets, so only those
 * "could not check" warnings are allowed.
 */
const dir = new URL('../../fixtures/', import.meta.url);
const names = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

const cannotCheckOffline = (i: Hl7Issue) =>
  i.messageId === 'Terminology_TX_ValueSet_NotFound' ||
  (i.messageId === 'Terminology_PassThrough_TX_Message' && i.message.startsWith('CodeSystem is unknown and can\'t be validated'));

const show = (issues: Hl7Issue[]) => issues.map((i) => `${i.severity} ${i.expression ?? ''}: ${i.message}`);

// The JVM loads all of R4 before the first answer (about ten seconds), and may first build the jar.
t.setTimeout(600_000);
const java = javaAvailable();
if (!java && process.env.CI === 'true') t.fail('java is needed for HL7\'s validator (.ci/run builds it with Java 17 and Maven)');

const skip = java ? false : 'java is not installed: the fixtures are not checked against HL7\'s validator';
t.test('every fixture passes HL7\'s validator with no error and no warning', { skip }, async (t) => {
  const hl7 = await startHl7Validator();
  t.teardown(() => hl7.close());
  t.ok(names.length >= 8);
  for (const name of names) {
    const result = await hl7.validate(readFileSync(new URL(name, dir), 'utf8'));
    t.same(show(result.errors), [], `${name}: no errors`);
    t.same(show(result.warnings.filter((i) => !cannotCheckOffline(i))), [], `${name}: no warnings`);
  }
});
