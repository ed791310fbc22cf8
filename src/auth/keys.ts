import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { writeJsonFile } from './json-file.js';

/** The authorization server's secrets: its token-signing key(s) and the keys its cookies are signed with. */
export interface ProviderKeys {
  /** Private JWKs; the first signs. */
  keys: JWK[];
  cookieKeys: string[];
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name))) as JWK;
}

async function generateKeys(): Promise<ProviderKeys> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }], cookieKeys: [randomBytes(32).toString('base64url')] };
}

function parseKeys(text: string, path: string): ProviderKeys {
  const parsed = JSON.parse(text) as Partial<ProviderKeys>;
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0 || !Array.isArray(parsed.cookieKeys) || parsed.cookieKeys.length === 0) {
    throw new Error(`${path} must hold {"keys": [private JWKs], "cookieKeys": ["..."]}`);
  }
  return { keys: parsed.keys, cookieKeys: parsed.cookieKeys };
}

/**
 * The keys in `keysFile`, made there (owner-only) on the first start. Several instances starting
 * at once agree: the file is put in place with link(2), which fails when another got there first.
 * The public half is written to `jwksFile`, where the resource server reads it (AUTH_JWKS_FILE).
 */
export async function loadOrCreateKeys(keysFile: string, jwksFile: string): Promise<ProviderKeys> {
  let text = await readFile(keysFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) {
    await mkdir(dirname(keysFile), { recursive: true, mode: 0o700 });
    const temporary = `${keysFile}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(await generateKeys(), null, 2), { mode: 0o600 });
    await link(temporary, keysFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await unlink(temporary);
    text = await readFile(keysFile, 'utf8');
  }
  const keys = parseKeys(text, keysFile);
  await writeJsonFile(jwksFile, { keys: keys.keys.map(publicJwk) });
  return keys;
}
