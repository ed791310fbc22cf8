import type { ClientMetadata } from 'oidc-provider';
import { hashClientSecret, isSecretDigest } from './client-secrets.js';
import { BREAK_THE_GLASS, checkCodes } from './grants.js';
import { WatchedJsonFile, writeJsonFile } from './json-file.js';
import { isKnownScope, scopeList, STATIC_SCOPES } from './smart-scopes.js';

/**
 * A client registered with the built-in authorization server. What it may do follows from what
 * it holds: `redirect_uris` make it an app of the authorization-code flow (refresh tokens too
 * when `offline_access` is among its scopes); a key set (`jwks` or `jwks_uri`) makes it
 * authenticate with private_key_jwt, a secret's digest makes it authenticate with the secret
 * (client_secret_basic or client_secret_post); either way, with `system/` scopes it may use
 * client_credentials (SMART Backend Services). With neither it is a public client (PKCE only).
 */
export interface ClientRecord {
  client_id: string;
  client_name?: string;
  /** Every scope it may be given (space-separated); resource scopes cover narrower ones. */
  scope: string;
  redirect_uris?: string[];
  jwks?: { keys: Record<string, unknown>[] };
  jwks_uri?: string;
  /** The SHA-256 digest of its secret (client-secrets.ts); the secret itself is never stored. */
  client_secret_hash?: string;
  /** Security label codes its client_credentials tokens grant (the `security_labels` claim). */
  security_labels?: string[];
  /** Role codes of its client_credentials tokens (the `roles` claim). */
  roles?: string[];
  /**
   * What it is for: v3 PurposeOfUse codes (TREAT, HPAYMT...) every token it gets carries (the
   * `purpose_of_use` claim). BTG makes it an emergency-access app: its users' tokens break the
   * glass, for users allowed to.
   */
  purpose_of_use?: string[];
}

/** What `add` takes: a record, with the secret itself rather than its digest. */
export type ClientInput = Partial<Omit<ClientRecord, 'client_secret_hash'>> & { client_secret?: string };

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

function checkClient(entry: Partial<ClientRecord>, where: string): ClientRecord {
  if (typeof entry?.client_id !== 'string' || !CLIENT_ID.test(entry.client_id)) throw new Error(`${where}: client_id must be 1 to 128 of A-Z a-z 0-9 . _ ~ -`);
  if (entry.client_name !== undefined && typeof entry.client_name !== 'string') throw new Error(`${where}: client_name must be a string`);
  const scopes = scopeList(entry.scope);
  if (scopes.length === 0) throw new Error(`${where}: scope must list the scopes the client may be given`);
  const unknown = scopes.filter((s) => !isKnownScope(s));
  if (unknown.length > 0) throw new Error(`${where}: unknown scopes ${unknown.join(' ')} (use SMART scopes such as patient/*.rs, or ${STATIC_SCOPES.join(', ')})`);
  const redirects = entry.redirect_uris ?? [];
  if (!Array.isArray(redirects) || redirects.some((uri) => typeof uri !== 'string' || URL.parse(uri) === null)) {
    throw new Error(`${where}: redirect_uris must be absolute URLs`);
  }
  if (entry.jwks !== undefined && !Array.isArray(entry.jwks?.keys)) throw new Error(`${where}: jwks must be a JSON Web Key Set ({"keys": [...]})`);
  if (entry.jwks_uri !== undefined && URL.parse(entry.jwks_uri)?.protocol !== 'https:') throw new Error(`${where}: jwks_uri must be an https URL`);
  if (entry.jwks && entry.jwks_uri) throw new Error(`${where}: give jwks or jwks_uri, not both`);
  // A secret written in by hand must not leave a client quietly public.
  if ('client_secret' in entry) throw new Error(`${where}: a secret is kept only as client_secret_hash (add the client with npm run auth -- add-client --secret)`);
  if (entry.client_secret_hash !== undefined && !isSecretDigest(entry.client_secret_hash)) throw new Error(`${where}: client_secret_hash must be a sha256: digest as npm run auth writes it`);
  const hasKeys = entry.jwks !== undefined || entry.jwks_uri !== undefined;
  const hasSecret = entry.client_secret_hash !== undefined;
  if (hasKeys && hasSecret) throw new Error(`${where}: give a key set or a secret, not both`);
  if (redirects.length === 0 && !hasKeys && !hasSecret) throw new Error(`${where}: needs redirect_uris (an app), or a key set or a secret (a backend service)`);
  if (redirects.length === 0 && !scopes.some((s) => s.startsWith('system/'))) throw new Error(`${where}: a backend service needs system/ scopes`);
  const labels = checkCodes(entry.security_labels, `${where}: security_labels`, 'R, V, PSY');
  const roles = checkCodes(entry.roles, `${where}: roles`, 'PRCP');
  const purposes = checkCodes(entry.purpose_of_use, `${where}: purpose_of_use`, 'TREAT, HPAYMT');
  // An app's tokens carry its user's labels and roles: the client's would never be used.
  if ((labels || roles) && !((hasKeys || hasSecret) && scopes.some((s) => s.startsWith('system/')))) {
    throw new Error(`${where}: security_labels and roles of a client go into its client_credentials tokens only: it needs system/ scopes and a key set or a secret (an app's tokens carry its user's)`);
  }
  if (purposes?.includes(BREAK_THE_GLASS) && !(redirects.length > 0 && scopes.some((s) => s.startsWith('user/')))) {
    throw new Error(`${where}: purpose of use ${BREAK_THE_GLASS} is honoured only for users signed in with user/ scopes: it needs redirect_uris and user/ scopes`);
  }
  return {
    client_id: entry.client_id,
    client_name: entry.client_name,
    scope: scopes.join(' '),
    redirect_uris: redirects.length > 0 ? redirects : undefined,
    jwks: entry.jwks,
    jwks_uri: entry.jwks_uri,
    client_secret_hash: entry.client_secret_hash,
    security_labels: labels,
    roles,
    purpose_of_use: purposes,
  };
}

/** How the client authenticates at the token endpoint. */
export function authMethodOf(client: ClientRecord): 'private_key_jwt' | 'client_secret_basic' | 'none' {
  if (client.jwks !== undefined || client.jwks_uri !== undefined) return 'private_key_jwt';
  return client.client_secret_hash !== undefined ? 'client_secret_basic' : 'none';
}

function parseClients(raw: unknown, path: string): ClientRecord[] {
  const list = (raw as { clients?: unknown })?.clients;
  if (!Array.isArray(list)) throw new Error(`${path} must hold {"clients": [...]}`);
  return list.map((entry, index) => checkClient(entry as Partial<ClientRecord>, `${path}: clients[${index}]`));
}

/** The client as oidc-provider registers it. */
export function providerMetadata(client: ClientRecord): ClientMetadata {
  const scopes = scopeList(client.scope);
  const authMethod = authMethodOf(client);
  const grantTypes: string[] = [];
  if (client.redirect_uris) grantTypes.push('authorization_code');
  if (client.redirect_uris && scopes.includes('offline_access')) grantTypes.push('refresh_token');
  if (authMethod !== 'none' && scopes.some((s) => s.startsWith('system/'))) grantTypes.push('client_credentials');
  const statics = scopes.filter((s) => (STATIC_SCOPES as readonly string[]).includes(s));
  return {
    client_id: client.client_id,
    ...(client.client_name ? { client_name: client.client_name } : {}),
    redirect_uris: client.redirect_uris ?? [],
    response_types: client.redirect_uris ? ['code'] : [],
    grant_types: grantTypes,
    // client_secret_basic: oidc-provider takes the secret by Basic auth or in the form alike.
    token_endpoint_auth_method: authMethod,
    ...(client.jwks ? { jwks: client.jwks as ClientMetadata['jwks'] } : {}),
    // The digest stands where the provider expects the secret: provider.ts compares against it.
    ...(client.client_secret_hash ? { client_secret: client.client_secret_hash } : {}),
    ...(client.jwks_uri ? { jwks_uri: client.jwks_uri } : {}),
    // oidc-provider checks these (static) scopes itself; resource scopes are checked in provider.ts.
    ...(statics.length > 0 ? { scope: statics.join(' ') } : {}),
  };
}

/** The clients file (AUTH_SERVER_DIR/clients.json), read again when it changes. */
export class ClientRegistry {
  private readonly file: WatchedJsonFile<ClientRecord[]>;

  constructor(path: string) {
    this.file = new WatchedJsonFile(path, parseClients, () => []);
  }

  async byId(clientId: string): Promise<ClientRecord | undefined> {
    return (await this.file.read()).find((client) => client.client_id === clientId);
  }

  async list(): Promise<ClientRecord[]> {
    return this.file.read();
  }

  /** Adds a client (or, with `replace`, replaces the one with its client_id); its secret is stored as a digest. */
  async add(input: ClientInput, replace = false): Promise<ClientRecord> {
    const { client_secret: secret, ...rest } = input;
    const client = checkClient({ ...rest, client_secret_hash: secret === undefined ? undefined : hashClientSecret(secret) }, 'the client');
    const clients = await this.file.read();
    const existing = clients.find((c) => c.client_id === client.client_id);
    if (existing && !replace) throw new Error(`client ${client.client_id} exists already (use --replace to change it)`);
    await writeJsonFile(this.file.path, { clients: [...clients.filter((c) => c !== existing), client] });
    return client;
  }
}
