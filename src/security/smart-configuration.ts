import type { AuthConfig } from '../config.js';

/**
 * The SMART App Launch discovery document (`[base]/.well-known/smart-configuration`). It
 * describes the configured authorization server as this resource server understands its tokens;
 * the endpoints are the ones given in AUTH_AUTHORIZE_URL / AUTH_TOKEN_URL / AUTH_JWKS_URL.
 */
export function smartConfiguration(auth: AuthConfig & { issuer: string }): Record<string, unknown> {
  const contexts = ['patient', 'user', 'system'];
  return {
    issuer: auth.issuer,
    ...(auth.jwksUrl ? { jwks_uri: auth.jwksUrl } : {}),
    ...(auth.authorizeUrl ? { authorization_endpoint: auth.authorizeUrl } : {}),
    ...(auth.tokenUrl ? { token_endpoint: auth.tokenUrl } : {}),
    grant_types_supported: ['authorization_code', 'client_credentials'],
    response_types_supported: ['code'],
    scopes_supported: [
      'openid',
      'fhirUser',
      'launch/patient',
      'offline_access',
      'online_access',
      ...contexts.flatMap((c) => [`${c}/*.cruds`, `${c}/*.rs`, `${c}/*.read`, `${c}/*.write`]),
    ],
    code_challenge_methods_supported: ['S256'],
    capabilities: [
      'launch-standalone',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'context-standalone-patient',
      'permission-patient',
      'permission-user',
      'permission-v1',
      'permission-v2',
    ],
  };
}
