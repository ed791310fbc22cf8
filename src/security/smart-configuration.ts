import type { AuthConfig } from '../config.js';
import { CLIENT_ASSERTION_ALGORITHMS, CLIENT_AUTH_METHODS } from '../auth/client-auth.js';

const CONTEXTS = ['patient', 'user', 'system'];
const SCOPES = [
  'openid',
  'fhirUser',
  'launch/patient',
  'offline_access',
  ...CONTEXTS.flatMap((c) => [`${c}/*.cruds`, `${c}/*.rs`, `${c}/*.read`, `${c}/*.write`]),
];

/** What this resource server's tokens support, whichever issuer signs them. */
const CAPABILITIES = [
  'launch-standalone',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'context-standalone-patient',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
];

/**
 * The SMART App Launch discovery document (`[base]/.well-known/smart-configuration`). For an
 * external authorization server it describes what this resource server understands of its
 * tokens, with the endpoints given in AUTH_AUTHORIZE_URL / AUTH_TOKEN_URL / AUTH_JWKS_URL. For
 * the built-in one (AUTH_SERVER=on) it says exactly what that server does (src/auth/).
 */
export function smartConfiguration(auth: AuthConfig & { issuer: string }, builtIn = false): Record<string, unknown> {
  if (builtIn) {
    return {
      issuer: auth.issuer,
      jwks_uri: `${auth.issuer}/jwks`,
      authorization_endpoint: auth.authorizeUrl,
      token_endpoint: auth.tokenUrl,
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      response_types_supported: ['code'],
      token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      scopes_supported: SCOPES,
      code_challenge_methods_supported: ['S256'],
      // The built-in server also does OpenID Connect sign-in and refresh tokens (offline_access).
      capabilities: [...CAPABILITIES, 'sso-openid-connect', 'permission-offline'],
    };
  }
  return {
    issuer: auth.issuer,
    ...(auth.jwksUrl ? { jwks_uri: auth.jwksUrl } : {}),
    ...(auth.authorizeUrl ? { authorization_endpoint: auth.authorizeUrl } : {}),
    ...(auth.tokenUrl ? { token_endpoint: auth.tokenUrl } : {}),
    grant_types_supported: ['authorization_code', 'client_credentials'],
    response_types_supported: ['code'],
    scopes_supported: [...SCOPES, 'online_access'],
    code_challenge_methods_supported: ['S256'],
    capabilities: CAPABILITIES,
  };
}
