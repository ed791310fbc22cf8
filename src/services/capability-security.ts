import type { CapabilityStatementRestSecurity } from 'fhir/r4';
import type { AuthConfig } from '../config.js';

const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';
const SECURITY_SERVICE = 'http://terminology.hl7.org/CodeSystem/restful-security-service';

/** `rest[0].security` of the CapabilityStatement: how callers authenticate, from the AUTH_* settings. */
export function capabilitySecurity(auth: AuthConfig): CapabilityStatementRestSecurity {
  const cors = auth.corsOrigins !== undefined;
  if (!auth.issuer) {
    return {
      cors,
      description: 'Authorization is off: this server checks no access tokens and every caller may read and write everything.',
    };
  }
  const uris = [
    ...(auth.authorizeUrl ? [{ url: 'authorize', valueUri: auth.authorizeUrl }] : []),
    ...(auth.tokenUrl ? [{ url: 'token', valueUri: auth.tokenUrl }] : []),
  ];
  return {
    ...(uris.length > 0 ? { extension: [{ url: OAUTH_URIS, extension: uris }] } : {}),
    cors,
    service: [{ coding: [{ system: SECURITY_SERVICE, code: 'SMART-on-FHIR' }], text: 'OAuth2 using SMART-on-FHIR profile' }],
    description:
      `Requests need an OAuth 2.0 bearer access token (a JWT) issued by ${auth.issuer} for audience ${auth.audience.join(', ')}, ` +
      'carrying SMART App Launch v1 or v2 scopes. Discovery: [base]/.well-known/smart-configuration.',
  };
}
