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
}

/** PROFILES_DIR, REQUIRE_KNOWN_PROFILES, REQUIRED_PROFILES (Type=url pairs, comma-separated). */
export interface ValidationConfig {
  profilesDir: string;
  requireKnownProfiles: boolean;
  requiredProfiles: Record<string, string[]>;
}

function validationFrom(env: NodeJS.ProcessEnv): ValidationConfig {
  const requiredProfiles: Record<string, string[]> = {};
  for (const pair of (env.REQUIRED_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([A-Z][A-Za-z]+)=(\S+)$/.exec(pair);
    if (!match) throw new Error(`REQUIRED_PROFILES entries must look like Patient=http://...; got "${pair}"`);
    (requiredProfiles[match[1]] ??= []).push(match[2]);
  }
  const strict = env.REQUIRE_KNOWN_PROFILES ?? 'false';
  if (strict !== 'true' && strict !== 'false') throw new Error(`REQUIRE_KNOWN_PROFILES must be true or false; got "${strict}"`);
  return {
    profilesDir: env.PROFILES_DIR || fileURLToPath(new URL('../profiles', import.meta.url)),
    requireKnownProfiles: strict === 'true',
    requiredProfiles,
  };
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

function listFrom(env: NodeJS.ProcessEnv, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  return raw.split(',').map((v) => v.trim()).filter(Boolean);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = intFrom(env, 'PORT', 8080, 0);
  const host = env.HOST || '0.0.0.0';
  const baseUrl = (env.BASE_URL || `http://localhost:${port}/fhir`).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`BASE_URL must be an absolute URL such as http://localhost:8080/fhir; got "${baseUrl}"`);
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
    restrictedLabels: listFrom(env, 'RESTRICTED_LABELS', DEFAULT_RESTRICTED_LABELS),
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
