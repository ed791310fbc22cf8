import { decodeJwt } from 'jose';
import type { Db } from 'mongodb';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuthServerConfig } from '../config.js';
import { CLIENT_ASSERTION_ALGORITHMS, CLIENT_AUTH_METHODS } from './client-auth.js';
import { clientSecretMatches } from './client-secrets.js';
import type { ClientRegistry } from './clients.js';
import { grantClaims } from './grants.js';
import type { ProviderKeys } from './keys.js';
import { scopeCovered, scopeList, STATIC_SCOPES } from './smart-scopes.js';
import { stateAdapter } from './state-store.js';
import { patientOf, type UserDirectory } from './users.js';

/** Lifetimes (seconds). Backend-service tokens are short, as SMART Backend Services recommends. */
const TTL = {
  AccessToken: 60 * 60,
  ClientCredentials: 5 * 60,
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
  Session: 24 * 60 * 60,
  Interaction: 60 * 60,
};


export interface ProviderDeps {
  settings: AuthServerConfig;
  /** The FHIR base URL: the audience of every access token. */
  baseUrl: string;
  db: Db;
  users: UserDirectory;
  clients: ClientRegistry;
  keys: ProviderKeys;
}

/** The scopes a request is about: its `scope` parameter, or those of the code or refresh token it redeems. */
function scopesInPlay(ctx: KoaContextWithOIDC): string[] {
  const { params, entities } = ctx.oidc;
  return scopeList(params?.scope ?? entities.AuthorizationCode?.scope ?? entities.RefreshToken?.scope);
}

/** `Patient/123` as the absolute URL SMART's fhirUser claim carries. */
function fhirUserUrl(baseUrl: string, reference: string): string {
  return `${baseUrl}/${reference}`;
}

/**
 * The oidc-provider instance: SMART standalone launch (authorization code + PKCE S256, public,
 * private_key_jwt or client-secret clients), SMART Backend Services (client_credentials with
 * private_key_jwt or a client secret),
 * refresh tokens with `offline_access`. Every access token is a JWT for the FHIR API (audience
 * BASE_URL), signed with the key the resource server trusts.
 */
export function createProvider({ settings, baseUrl, db, users, clients, keys }: ProviderDeps): Provider {
  const configuration: Configuration = {
    adapter: stateAdapter(db, clients),
    jwks: { keys: keys.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: keys.cookieKeys },
    routes: { authorization: '/authorize', token: '/token', jwks: '/jwks', end_session: '/logout' },
    responseTypes: ['code'],
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    enabledJWA: { clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGORITHMS] },
    pkce: { required: () => true },
    // SMART apps send `aud` = the FHIR base URL they mean; a token for another server is refused here, not there.
    extraParams: {
      aud: (_ctx, value) => {
        if (value !== undefined && value.replace(/\/+$/, '') !== baseUrl) throw new errors.InvalidRequest(`aud must be this server's FHIR base URL, ${baseUrl}`);
      },
    },
    scopes: [...STATIC_SCOPES],
    claims: { openid: ['sub'], fhirUser: ['fhirUser'] },
    // The id_token of the code flow carries fhirUser (there is no userinfo endpoint: access tokens are for the FHIR API).
    conformIdTokenClaims: false,
    ttl: TTL,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => baseUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: async (ctx, resource, client) => {
          if (resource !== baseUrl) throw new errors.InvalidTarget(`the only resource here is ${baseUrl}`);
          const registered = scopeList((await clients.byId(client.clientId))?.scope);
          const requested = scopesInPlay(ctx);
          const refused = requested.filter((scope) => !scopeCovered(scope, registered));
          if (refused.length > 0) throw new errors.InvalidScope('the client is not registered for the requested scope', refused.join(' '));
          return { scope: requested.join(' '), audience: baseUrl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    findAccount: async (_ctx, id) => {
      const user = await users.byId(id);
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({ sub: user.id, ...(user.fhirUser ? { fhirUser: fhirUserUrl(baseUrl, user.fhirUser) } : {}) }),
      };
    },
    // The claims our resource server reads (src/security/authenticate.ts): fhirUser, patient with
    // launch/patient, and the user's or (client_credentials) the client's grants (grants.ts).
    extraTokenClaims: async (_ctx, token) => {
      const client = token.clientId ? await clients.byId(token.clientId) : undefined;
      if (!('accountId' in token) || !token.accountId) return grantClaims(client);
      const user = await users.byId(token.accountId);
      if (!user) return undefined;
      const patient = scopeList(token.scope).includes('launch/patient') ? patientOf(user) : undefined;
      return {
        ...(user.fhirUser ? { fhirUser: fhirUserUrl(baseUrl, user.fhirUser) } : {}),
        ...(patient ? { patient } : {}),
        ...grantClaims(client, user),
      };
    },
    interactions: { url: (_ctx, interaction) => `${settings.mountPath}/interaction/${interaction.uid}` },
    // Browser apps may call the token endpoint from the origins of their redirect URIs.
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
  };
  const provider = new Provider(settings.issuer, configuration);
  // Clients' secrets are stored as digests (clients.ts puts the digest in `client_secret`): the
  // provider's own comparison would compare the secret with the digest. The provider leaves this
  // method to be replaced; nothing else here uses the secret (no HS* algorithms are enabled).
  provider.Client.prototype.compareClientSecret = function compareDigest(this: InstanceType<Provider['Client']>, actual: string) {
    return clientSecretMatches(this.clientSecret ?? '', actual);
  };
  // Koa sees the public scheme and host (set from BASE_URL in mount.ts), never a client's forwarding headers.
  provider.proxy = true;
  provider.use(async (ctx, next) => {
    // OpenID Connect drops offline_access unless prompt=consent is asked for; SMART apps do not
    // ask, so the server does: an app gets a refresh token only after the user has allowed it.
    if (ctx.method === 'GET' && ctx.path === '/authorize' && ctx.query.prompt === undefined && scopeList(ctx.query.scope).includes('offline_access')) {
      ctx.query = { ...ctx.query, prompt: 'consent' };
      // The provider finds its mount path by locating the URL in originalUrl (see mount.ts): keep them in step.
      (ctx.req as typeof ctx.req & { originalUrl?: string }).originalUrl = `${settings.mountPath}${ctx.url}`;
    }
    await next();
    // SMART: the token response names the launch patient beside the token.
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || typeof body?.access_token !== 'string') return;
    const { patient } = decodeJwt(body.access_token);
    if (typeof patient === 'string') body.patient = patient;
  });
  return provider;
}
