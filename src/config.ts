import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every environment variable the server reads, parsed and checked in one place. */
export interface Config {
  port: number;
  host: string;
  /** Public base URL of the FHIR endpoint, without a trailing slash. */
  baseUrl: string;
  /** MongoDB connection string; undefined means: start the embedded database. */
  mongoUri?: string;
  /** Database name used when the URI names none. */
  dbName: string;
  /** Folder of the embedded database's files. */
  dataDir: string;
  logLevel: string;
  bodyLimitBytes: number;
  /** Default and largest page size of history and search bundles. */
  defaultPageSize: number;
  maxPageSize: number;
  /** Time limit (ms) the database gets for each query a request makes (`maxTimeMS`). */
  dbQueryTimeoutMs: number;
  /** How long the plain query of a page in `_id` order may run before the page is read in id windows (0: windows at once). */
  idWindowProbeMs: number;
  /** The most matches a chain's or `_has`'s inner search, or the rest of its search, may have to drive it. */
  maxChainMatches: number;
  validation: ValidationConfig;
  /** Security label codes (meta.security) only tokens granting them may see (RESTRICTED_LABELS). */
  restrictedLabels: string[];
  /**
   * AUDIT_TRAIL=off: no AuditEvents (local development and the benchmark's baseline only: it
   * is refused when authorization is on).
   */
  auditTrail: boolean;
  /** What a patient's records follow when no Consent of theirs decides (CONSENT_DEFAULT). */
  consentDefault: 'permit' | 'deny';
  /** AUTH_*, CORS_ORIGINS: the server as an OAuth 2.0 resource server of SMART on FHIR tokens. */
  auth: AuthConfig;
  /** AUTH_SERVER=on: the built-in SMART authorization server under /auth (src/auth/); undefined when off. */
  authServer?: AuthServerConfig;
  /** BUNDLE_MAX_ENTRIES, BUNDLE_BODY_LIMIT_BYTES, CONDITIONAL_DELETE_MAX, TRANSACTION_MAX_ATTEMPTS. */
  bundleMaxEntries: number;
  bundleBodyLimitBytes: number;
  /** How many matches a conditional delete may delete (1: a single one; several matches answer 412). */
  conditionalDeleteMax: number;
  /** How often a transaction that met a write conflict is run again before it answers 409. */
  transactionMaxAttempts: number;
  /** METRICS_ENABLED, METRICS_TOKEN: Prometheus metrics at /metrics. */
  metrics: MetricsConfig;
}

/**
 * `/metrics` (outside the FHIR base path, never behind an access token: Prometheus scrapes
 * with a static bearer token at most). On by default only while authorization is off, when the
 * server listens on loopback; with an issuer the operator turns it on and, where the port is
 * reachable from outside, sets METRICS_TOKEN.
 */
export interface MetricsConfig {
  enabled: boolean;
  /** The bearer token a scrape must send; undefined: anyone who reaches the port may read the metrics. */
  token?: string;
}

function metricsFrom(env: NodeJS.ProcessEnv, auth: AuthConfig): MetricsConfig {
  const raw = env.METRICS_ENABLED || (auth.issuer ? 'false' : 'true');
  if (raw !== 'true' && raw !== 'false') throw new Error(`METRICS_ENABLED must be true or false; got "${raw}"`);
  const token = env.METRICS_TOKEN || undefined;
  if (token !== undefined && token.length < 16) throw new Error('METRICS_TOKEN must be at least 16 characters long');
  return { enabled: raw === 'true', token };
}

/** PROFILES_DIR, REQUIRE_KNOWN_PROFILES, REQUIRED_PROFILES (Type=url pairs, comma-separated), UNKNOWN_EXTENSIONS, DISPLAY_MISMATCH. */
export interface ValidationConfig {
  profilesDir: string;
  requireKnownProfiles: boolean;
  requiredProfiles: Record<string, string[]>;
  /** An extension no known StructureDefinition defines: accept (default), warn or reject. */
  unknownExtensions: 'accept' | 'warn' | 'reject';
  /** A coding whose display is not its shipped code system's: a warning (default) or an error. */
  displayMismatch: 'warning' | 'error';
}

function choiceFrom<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[]): T {
  const raw = env[name] || allowed[0];
  if (!allowed.includes(raw as T)) throw new Error(`${name} must be one of ${allowed.join(', ')}; got "${raw}"`);
  return raw as T;
}

function validationFrom(env: NodeJS.ProcessEnv): ValidationConfig {
  const requiredProfiles: Record<string, string[]> = {};
  for (const pair of (env.REQUIRED_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([A-Z][A-Za-z]+)=(\S+)$/.exec(pair);
    if (!match) throw new Error(`REQUIRED_PROFILES entries must look like Patient=http://...; got "${pair}"`);
    (requiredProfiles[match[1]] ??= []).push(match[2]);
  }
  // An unknown meta.profile is an error by default, as for HL7's validator and HAPI's FhirInstanceValidator (errorForUnknownProfiles).
  const strict = env.REQUIRE_KNOWN_PROFILES || 'true';
  if (strict !== 'true' && strict !== 'false') throw new Error(`REQUIRE_KNOWN_PROFILES must be true or false; got "${strict}"`);
  return {
    profilesDir: env.PROFILES_DIR || fileURLToPath(new URL('../profiles', import.meta.url)),
    requireKnownProfiles: strict === 'true',
    requiredProfiles,
    unknownExtensions: choiceFrom(env, 'UNKNOWN_EXTENSIONS', ['accept', 'warn', 'reject'] as const),
    displayMismatch: choiceFrom(env, 'DISPLAY_MISMATCH', ['warning', 'error'] as const),
  };
}

/**
 * AUTH_*, CORS_ORIGINS. No AUTH_ISSUER means authorization is off (every caller may do
 * everything), which loadConfig allows only on a loopback HOST unless AUTH_DISABLED=true.
 */
export interface AuthConfig {
  /** AUTH_ISSUER: the `iss` tokens must carry; undefined: authorization is off. */
  issuer?: string;
  /** AUTH_AUDIENCE (comma-separated): the `aud` tokens must name, BASE_URL by default. */
  audience: string[];
  /** AUTH_JWKS_URL: the issuer's key set, fetched, cached and refetched on an unknown `kid`. */
  jwksUrl?: string;
  /** AUTH_JWKS_FILE: a key set on disk, read again when a token names an unknown `kid`. */
  jwksFile?: string;
  /** AUTH_ALGORITHMS: the signature algorithms accepted (asymmetric ones only). */
  algorithms: string[];
  /** AUTH_CLOCK_SKEW_SECONDS: leeway for `exp`, `nbf` and `iat`. */
  clockSkewSeconds: number;
  /** AUTH_DISABLED=true: no issuer on purpose, on any HOST (closed test networks only). */
  disabled: boolean;
  /** AUTH_AUTHORIZE_URL, AUTH_TOKEN_URL: advertised in smart-configuration and the CapabilityStatement. */
  authorizeUrl?: string;
  tokenUrl?: string;
  /** CORS_ORIGINS: origins browsers may call from, '*' for any; undefined: CORS off. */
  corsOrigins?: string[] | '*';
}

/** Signature algorithms a token may use: asymmetric only, so holding the public key does not let anyone sign. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const DEFAULT_ALGORITHMS = 'RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512';

function listFrom(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((part) => part.trim()).filter(Boolean);
}

function urlFrom(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} must be an absolute URL; got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${name} must be an http(s) URL; got "${raw}"`);
  return raw;
}

function algorithmsFrom(env: NodeJS.ProcessEnv): string[] {
  const algorithms = listFrom(env.AUTH_ALGORITHMS || DEFAULT_ALGORITHMS);
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none') throw new Error('AUTH_ALGORITHMS must not contain "none": unsigned tokens would be accepted');
    if (/^HS/i.test(alg)) {
      throw new Error(`AUTH_ALGORITHMS must not contain ${alg}: with a shared-secret algorithm anyone who has the issuer's public key could sign tokens`);
    }
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new Error(`AUTH_ALGORITHMS: "${alg}" is not a supported algorithm; use some of ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
    }
  }
  if (algorithms.length === 0) throw new Error('AUTH_ALGORITHMS must name at least one algorithm');
  return algorithms;
}

function corsOriginsFrom(raw: string | undefined): AuthConfig['corsOrigins'] {
  const origins = listFrom(raw);
  if (origins.length === 0) return undefined;
  if (origins.includes('*')) return '*';
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // An origin is scheme://host[:port], exactly as browsers send it in the Origin header.
    if (!parsed || parsed.origin !== origin) {
      throw new Error(`CORS_ORIGINS entries must be origins such as https://app.example.org (no path, no trailing slash) or *; got "${origin}"`);
    }
  }
  return origins;
}

/**
 * AUTH_SERVER=on, AUTH_SERVER_DIR: the built-in authorization server, served by this server
 * under /auth. Its issuer is BASE_URL's origin + /auth; the resource server trusts it (issuer,
 * its public key file, its endpoints) without any AUTH_* setting.
 */
export interface AuthServerConfig {
  issuer: string;
  /** AUTH_SERVER_DIR (./auth): users.json, clients.json, keys.json (private, made on first start), jwks.json (public). */
  dir: string;
  usersFile: string;
  clientsFile: string;
  keysFile: string;
  jwksFile: string;
  /** The path it is mounted at. */
  mountPath: string;
}

/** Where the built-in authorization server is mounted; its issuer is BASE_URL's origin + this. */
export const AUTH_SERVER_PATH = '/auth';

export function authServerFrom(env: NodeJS.ProcessEnv, baseUrl: string): AuthServerConfig | undefined {
  const raw = env.AUTH_SERVER || 'off';
  if (raw !== 'on' && raw !== 'off') throw new Error(`AUTH_SERVER must be on or off; got "${raw}"`);
  if (raw === 'off') {
    if (env.AUTH_SERVER_DIR) throw new Error('AUTH_SERVER_DIR set without AUTH_SERVER=on');
    return undefined;
  }
  // The built-in server decides these itself: a second source could only disagree with it.
  const clashes = ['AUTH_ISSUER', 'AUTH_JWKS_URL', 'AUTH_JWKS_FILE', 'AUTH_AUDIENCE', 'AUTH_AUTHORIZE_URL', 'AUTH_TOKEN_URL', 'AUTH_DISABLED'].filter((name) => env[name]);
  if (clashes.length > 0) throw new Error(`${clashes.join(', ')} cannot be set with AUTH_SERVER=on: the built-in authorization server sets them`);
  const dir = env.AUTH_SERVER_DIR || './auth';
  return {
    issuer: `${new URL(baseUrl).origin}${AUTH_SERVER_PATH}`,
    dir,
    usersFile: join(dir, 'users.json'),
    clientsFile: join(dir, 'clients.json'),
    keysFile: join(dir, 'keys.json'),
    jwksFile: join(dir, 'jwks.json'),
    mountPath: AUTH_SERVER_PATH,
  };
}

export function authFrom(env: NodeJS.ProcessEnv, baseUrl: string, authServer?: AuthServerConfig): AuthConfig {
  const disabledRaw = env.AUTH_DISABLED || 'false';
  if (disabledRaw !== 'true' && disabledRaw !== 'false') throw new Error(`AUTH_DISABLED must be true or false; got "${disabledRaw}"`);
  const auth: AuthConfig = {
    issuer: authServer?.issuer ?? (env.AUTH_ISSUER || undefined),
    audience: listFrom(env.AUTH_AUDIENCE).length > 0 ? listFrom(env.AUTH_AUDIENCE) : [baseUrl],
    jwksUrl: urlFrom(env, 'AUTH_JWKS_URL'),
    jwksFile: authServer?.jwksFile ?? (env.AUTH_JWKS_FILE || undefined),
    algorithms: algorithmsFrom(env),
    clockSkewSeconds: intFrom(env, 'AUTH_CLOCK_SKEW_SECONDS', 60, 0),
    disabled: disabledRaw === 'true',
    authorizeUrl: authServer ? `${authServer.issuer}/authorize` : urlFrom(env, 'AUTH_AUTHORIZE_URL'),
    tokenUrl: authServer ? `${authServer.issuer}/token` : urlFrom(env, 'AUTH_TOKEN_URL'),
    corsOrigins: corsOriginsFrom(env.CORS_ORIGINS),
  };
  if (auth.issuer) {
    if (auth.disabled) throw new Error('AUTH_DISABLED=true contradicts AUTH_ISSUER: unset one of them');
    if (!auth.jwksUrl && !auth.jwksFile) throw new Error('AUTH_ISSUER needs the issuer\'s keys: set AUTH_JWKS_URL or AUTH_JWKS_FILE');
    if (auth.jwksUrl && auth.jwksFile) throw new Error('Set only one of AUTH_JWKS_URL and AUTH_JWKS_FILE');
  } else {
    // Settings that only mean something with an issuer: a typo in AUTH_ISSUER must not leave the server open unnoticed.
    const orphans = ['AUTH_AUDIENCE', 'AUTH_JWKS_URL', 'AUTH_JWKS_FILE', 'AUTH_AUTHORIZE_URL', 'AUTH_TOKEN_URL'].filter((name) => env[name]);
    if (orphans.length > 0) throw new Error(`${orphans.join(', ')} set without AUTH_ISSUER: set AUTH_ISSUER to turn authorization on`);
  }
  return auth;
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number of at least ${min}; got "${raw}"`);
  }
  return value;
}

/**
 * Confidentiality R (restricted) and V (very restricted), and the v3 ActCode sensitivity codes
 * of the kinds of care most laws protect apart (substance use, HIV, mental health, genetics...).
 */
const DEFAULT_RESTRICTED_LABELS = ['R', 'V', 'ETH', 'GDIS', 'HIV', 'MST', 'PSY', 'SCA', 'SDV', 'SEX', 'STD', 'TBOO', 'SUD', 'BH'];

/** RESTRICTED_LABELS (also read by `npm run auth`, to point out labels whose grant would change nothing). */
export function restrictedLabelsFrom(env: NodeJS.ProcessEnv): string[] {
  return env.RESTRICTED_LABELS === undefined ? DEFAULT_RESTRICTED_LABELS : listFrom(env.RESTRICTED_LABELS);
}

function auditTrailFrom(raw: string | undefined, auth: AuthConfig): boolean {
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw !== 'off') throw new Error(`AUDIT_TRAIL must be on or off; got "${raw}"`);
  if (auth.issuer || auth.disabled) throw new Error('AUDIT_TRAIL=off is only for local development: with authorization on (or AUTH_DISABLED) every access must be audited');
  return false;
}

function consentDefaultFrom(raw: string | undefined): 'permit' | 'deny' {
  if (raw === undefined || raw === '' || raw === 'permit') return 'permit';
  if (raw === 'deny') return 'deny';
  throw new Error(`CONSENT_DEFAULT must be permit or deny; got "${raw}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = intFrom(env, 'PORT', 8080, 0);
  const baseUrl = (env.BASE_URL || `http://localhost:${port}/fhir`).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`BASE_URL must be an absolute URL such as http://localhost:8080/fhir; got "${baseUrl}"`);
  }
  const authServer = authServerFrom(env, baseUrl);
  const auth = authFrom(env, baseUrl, authServer);
  // Without an issuer nothing is checked: listen on loopback only, unless AUTH_DISABLED says otherwise.
  const host = env.HOST || (auth.issuer && !authServer ? '0.0.0.0' : '127.0.0.1');
  // The built-in server's sign-in page takes passwords and sets session cookies: beyond this machine only over TLS.
  if (authServer && !isLoopback(host) && new URL(baseUrl).protocol !== 'https:') {
    throw new Error(
      `HOST=${host} is not a loopback address and AUTH_SERVER=on with an http BASE_URL: passwords and session cookies ` +
        'would cross the network in clear. Serve it behind a TLS proxy and set BASE_URL to its https URL, or listen on loopback.',
    );
  }
  if (!auth.issuer && !auth.disabled && !isLoopback(host)) {
    throw new Error(
      `HOST=${host} is not a loopback address and AUTH_ISSUER is not set: anyone who reaches the port could read and ` +
        'write every record. Set AUTH_ISSUER (with AUTH_JWKS_URL or AUTH_JWKS_FILE) to require access tokens, ' +
        'or AUTH_DISABLED=true on a closed test network.',
    );
  }
  const config: Config = {
    port,
    host,
    baseUrl,
    mongoUri: env.MONGODB_URI || undefined,
    dbName: env.MONGODB_DB || 'fhir',
    dataDir: env.DATA_DIR || './data',
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimitBytes: intFrom(env, 'BODY_LIMIT_BYTES', 5 * 1024 * 1024),
    defaultPageSize: intFrom(env, 'DEFAULT_PAGE_SIZE', 20),
    maxPageSize: intFrom(env, 'MAX_PAGE_SIZE', 1000),
    dbQueryTimeoutMs: intFrom(env, 'DB_QUERY_TIMEOUT_MS', 10_000),
    idWindowProbeMs: intFrom(env, 'ID_WINDOW_PROBE_MS', 5, 0),
    maxChainMatches: intFrom(env, 'MAX_CHAIN_MATCHES', 10_000),
    validation: validationFrom(env),
    auditTrail: auditTrailFrom(env.AUDIT_TRAIL, auth),
    consentDefault: consentDefaultFrom(env.CONSENT_DEFAULT),
    restrictedLabels: restrictedLabelsFrom(env),
    auth,
    authServer,
    bundleMaxEntries: intFrom(env, 'BUNDLE_MAX_ENTRIES', 1000),
    bundleBodyLimitBytes: intFrom(env, 'BUNDLE_BODY_LIMIT_BYTES', 50 * 1024 * 1024),
    conditionalDeleteMax: intFrom(env, 'CONDITIONAL_DELETE_MAX', 1),
    transactionMaxAttempts: intFrom(env, 'TRANSACTION_MAX_ATTEMPTS', 10),
    metrics: metricsFrom(env, auth),
  };
  if (config.defaultPageSize > config.maxPageSize) {
    throw new Error('DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE');
  }
  return config;
}

/** The URL path under which the FHIR API is served, taken from BASE_URL (e.g. "/fhir"). */
export function basePath(config: Config): string {
  const path = new URL(config.baseUrl).pathname.replace(/\/+$/, '');
  return path;
}
