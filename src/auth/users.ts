import { randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { checkCodes } from './grants.js';
import { WatchedJsonFile, writeJsonFile } from './json-file.js';

/** A person who can sign in at the built-in authorization server. */
export interface UserRecord {
  /** Stable, meaningless id: the tokens' `sub` and the audit trail's user (never the username). */
  id: string;
  username: string;
  /** argon2id hash (PHC string); the password itself is never stored or logged. */
  passwordHash: string;
  /** The user's FHIR resource, `Patient/123` or `Practitioner/456`: the `fhirUser` claim; a Patient is the launch patient. */
  fhirUser?: string;
  /** Security label codes (R, PSY...) the user's tokens grant: the `security_labels` claim. */
  securityLabels?: string[];
  /** Role codes (PRCP...), matched against Consent actors' roles: the `roles` claim. */
  roles?: string[];
  /** May break the glass: only then does an app registered for purpose of use BTG put BTG in the user's tokens. */
  breakGlass?: boolean;
}

/** What `add` takes. */
export interface UserInput {
  username: string;
  password: string;
  fhirUser?: string;
  securityLabels?: string[];
  roles?: string[];
  breakGlass?: boolean;
}

const USERNAME = /^[A-Za-z0-9._@+-]{1,128}$/;
const FHIR_USER = /^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)\/[A-Za-z0-9\-.]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;

/** The grants of a user record, checked; `where` names it in errors. */
function checkGrants(entry: Partial<UserRecord>, where: string): Pick<UserRecord, 'securityLabels' | 'roles' | 'breakGlass'> {
  if (entry.breakGlass !== undefined && typeof entry.breakGlass !== 'boolean') throw new Error(`${where}: breakGlass must be true or false`);
  if (entry.breakGlass && !entry.fhirUser?.startsWith('Practitioner')) {
    throw new Error(`${where}: only a practitioner may break the glass (give a fhirUser Practitioner/... or PractitionerRole/...)`);
  }
  return {
    securityLabels: checkCodes(entry.securityLabels, `${where}: securityLabels`, 'R, V, PSY'),
    roles: checkCodes(entry.roles, `${where}: roles`, 'PRCP'),
    breakGlass: entry.breakGlass || undefined,
  };
}

function parseUsers(raw: unknown, path: string): UserRecord[] {
  const list = (raw as { users?: unknown })?.users;
  if (!Array.isArray(list)) throw new Error(`${path} must hold {"users": [...]}`);
  return list.map((entry: Partial<UserRecord>, index) => {
    const where = `${path}: users[${index}]`;
    if (typeof entry?.id !== 'string' || entry.id === '') throw new Error(`${where} has no id`);
    if (typeof entry.username !== 'string' || !USERNAME.test(entry.username)) throw new Error(`${where} has no valid username`);
    if (typeof entry.passwordHash !== 'string' || !entry.passwordHash.startsWith('$argon2')) throw new Error(`${where} has no argon2 passwordHash`);
    if (entry.fhirUser !== undefined && (typeof entry.fhirUser !== 'string' || !FHIR_USER.test(entry.fhirUser))) {
      throw new Error(`${where}: fhirUser must look like Patient/123 or Practitioner/456`);
    }
    return { id: entry.id, username: entry.username, passwordHash: entry.passwordHash, fhirUser: entry.fhirUser, ...checkGrants(entry, where) };
  });
}

/** The launch patient's id of a user linked to a Patient. */
export function patientOf(user: UserRecord): string | undefined {
  return user.fhirUser?.startsWith('Patient/') ? user.fhirUser.slice('Patient/'.length) : undefined;
}

/** Checked against when a username is unknown, so that a wrong name costs as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** The users file (AUTH_SERVER_DIR/users.json), read again when it changes. */
export class UserDirectory {
  private readonly file: WatchedJsonFile<UserRecord[]>;

  constructor(path: string) {
    this.file = new WatchedJsonFile(path, parseUsers, () => []);
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    return (await this.file.read()).find((user) => user.id === id);
  }

  /** The user whose username and password these are; undefined for a wrong name or password alike. */
  async signIn(username: string, password: string): Promise<UserRecord | undefined> {
    const user = (await this.file.read()).find((u) => u.username === username);
    if (!user) {
      decoyHash ??= hash(randomUUID());
      await verify(await decoyHash, password).catch(() => false);
      return undefined;
    }
    return (await verify(user.passwordHash, password).catch(() => false)) ? user : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return this.file.read();
  }

  /** Adds a user (or, with `replace`, changes an existing one's password, fhirUser and grants). */
  async add(input: UserInput, replace = false): Promise<UserRecord> {
    if (!USERNAME.test(input.username)) throw new Error('username: 1 to 128 letters, digits or . _ @ + -');
    if (input.password.length < MIN_PASSWORD_LENGTH) throw new Error(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    if (input.fhirUser !== undefined && !FHIR_USER.test(input.fhirUser)) throw new Error('fhirUser must look like Patient/123 or Practitioner/456');
    const grants = checkGrants(input, 'the user');
    const users = await this.file.read();
    const existing = users.find((u) => u.username === input.username);
    if (existing && !replace) throw new Error(`user ${input.username} exists already (use --replace to change it)`);
    const user: UserRecord = {
      id: existing?.id ?? randomUUID(),
      username: input.username,
      passwordHash: await hash(input.password),
      fhirUser: input.fhirUser,
      ...grants,
    };
    await writeJsonFile(this.file.path, { users: [...users.filter((u) => u !== existing), user] });
    return user;
  }
}
