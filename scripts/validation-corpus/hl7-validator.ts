/**
 * HL7's R4 validator (HAPI FHIR's FhirInstanceValidator, offline) from the shared tools folder,
 * as one JVM in --server mode: JSON lines in, one JSON line out per input, in order.
 * The jar is built once into a writable cache (the tools folder is read-only in CI).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Beside the repository: ../shared/tools/fhir-validator (in CI and in the worktrees). */
export const TOOL_DIR = process.env.FHIR_VALIDATOR_TOOL ?? join(ROOT, '../shared/tools/fhir-validator');
export const BUILD_DIR = process.env.ORACLE_BUILD_DIR ?? join(homedir(), '.cache/fhir-records-server/validator');
export const PROFILES_DIR = join(ROOT, 'profiles');

export interface Hl7Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  messageId?: string;
  invariant?: string;
  expression?: string;
  message: string;
}

export interface Hl7Result {
  valid: boolean;
  ms: number;
  errors: Hl7Issue[];
  warnings: Hl7Issue[];
}

export const javaAvailable = (): boolean => spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

/** The jar, built first if it is not there yet (Java 17 and Maven; Maven Central on the first build). */
export function validatorJar(): string {
  const jar = join(BUILD_DIR, 'validator.jar');
  if (existsSync(jar)) return jar;
  const build = spawnSync('bash', [join(TOOL_DIR, 'build.sh')], { env: { ...process.env, ORACLE_BUILD_DIR: BUILD_DIR }, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0 || !existsSync(jar)) throw new Error(`could not build HL7's validator from ${TOOL_DIR} into ${BUILD_DIR}`);
  return jar;
}

export interface Hl7Validator {
  /** Validates one request text (a resource as JSON). */
  validate(text: string): Promise<Hl7Result>;
  close(): Promise<void>;
}

/**
 * Starts the validator with our profiles/ loaded. `flags` are the validator's own switches
 * (e.g. --any-extensions); start-up takes about ten seconds.
 */
export async function startHl7Validator(flags: string[] = []): Promise<Hl7Validator> {
  const child: ChildProcessWithoutNullStreams = spawn('java', ['-jar', validatorJar(), '--server', '--quiet', '--profiles', PROFILES_DIR, ...flags], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const waiting: { resolve: (r: Hl7Result) => void; reject: (e: Error) => void }[] = [];
  let exited: Error | undefined;
  child.on('exit', (code) => {
    exited = new Error(`HL7's validator exited (${code}): ${stderr.trim()}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (next) next.resolve(JSON.parse(line) as Hl7Result);
  });
  return {
    validate(text) {
      if (exited) return Promise.reject(exited);
      // One line per input: the validator reads lines, so the text must not contain a newline.
      const line = text.includes('\n') ? JSON.stringify(JSON.parse(text)) : text;
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(line + '\n');
      });
    },
    close() {
      return new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      });
    },
  };
}
