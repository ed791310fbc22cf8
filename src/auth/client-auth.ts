/** How clients authenticate at the token endpoint: public (PKCE) or with a signed JWT (private_key_jwt). */
export const CLIENT_AUTH_METHODS = ['none', 'private_key_jwt'] as const;

/** Signature algorithms accepted for client assertions (SMART requires RS384 and ES384). */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
