import type { OpenAPIV3 } from 'openapi-types';
import type { AuthConfig } from '../config.js';
import { RESOURCE_TYPES } from '../fhir/resource-types.js';

export interface OpenApiSecurity {
  schemes: Record<string, OpenAPIV3.SecuritySchemeObject>;
  /** The requirement of every operation but the public ones (empty: nothing is asked). */
  requirement: OpenAPIV3.SecurityRequirementObject[];
}

/** SMART scopes worth offering in Swagger UI's Authorize dialog: any others the issuer grants work too. */
function smartScopes(): Record<string, string> {
  const scopes: Record<string, string> = {
    openid: 'OpenID Connect sign-in',
    fhirUser: 'The signed-in user as a FHIR resource',
    'launch/patient': 'Ask the authorization server to pick a patient (standalone launch)',
    offline_access: 'A refresh token',
    'patient/*.rs': 'Read and search everything about the patient in context',
    'user/*.rs': 'Read and search everything the user may see',
    'user/*.cruds': 'Create, read, update, delete and search everything the user may',
  };
  for (const { type, appendOnly } of RESOURCE_TYPES) {
    scopes[`patient/${type}.rs`] = `Read and search the patient's ${type} resources`;
    scopes[`user/${type}.rs`] = `Read and search ${type} resources`;
    if (!appendOnly) scopes[`user/${type}.cruds`] = `Create, read, update, delete and search ${type} resources`;
  }
  return scopes;
}

/** The OAuth 2.0 flows Swagger UI can run, from the endpoints AUTH_AUTHORIZE_URL and AUTH_TOKEN_URL name. */
function oauthFlows(auth: AuthConfig): OpenAPIV3.OAuth2SecurityScheme['flows'] | undefined {
  const scopes = smartScopes();
  const flows: OpenAPIV3.OAuth2SecurityScheme['flows'] = {};
  if (auth.authorizeUrl && auth.tokenUrl) flows.authorizationCode = { authorizationUrl: auth.authorizeUrl, tokenUrl: auth.tokenUrl, scopes };
  if (auth.tokenUrl) flows.clientCredentials = { tokenUrl: auth.tokenUrl, scopes };
  return Object.keys(flows).length > 0 ? flows : undefined;
}

/**
 * The security schemes, from the same AUTH_* settings as the CapabilityStatement's `security`:
 * a bearer JWT always when an issuer is set, and SMART's OAuth 2.0 flows when its endpoints are
 * configured. With authorization off there is no scheme and nothing is required (tokens are not read).
 */
export function openApiSecurity(auth: AuthConfig): OpenApiSecurity {
  if (!auth.issuer) return { schemes: {}, requirement: [] };
  const schemes: Record<string, OpenAPIV3.SecuritySchemeObject> = {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `An access token issued by ${auth.issuer} for audience ${auth.audience.join(', ')}, carrying SMART App Launch v1 or v2 scopes.`,
    },
  };
  const flows = oauthFlows(auth);
  if (flows) {
    schemes.smart = { type: 'oauth2', description: 'SMART App Launch on OAuth 2.0 (PKCE for public clients).', flows };
  }
  // Either scheme suffices: OpenAPI reads the list as alternatives.
  const requirement: OpenAPIV3.SecurityRequirementObject[] = [...(flows ? [{ smart: [] }] : []), { bearer: [] }];
  return { schemes, requirement };
}
