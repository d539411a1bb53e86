// A local OpenID Connect provider standing in for ProConnect in the browser tests (panva's
// oidc-provider 9): one confidential client (client_secret_post), accounts given as JSON, the
// claims ProConnect gives (email, given_name, usual_name, siret) and, like ProConnect, userinfo
// answered as a signed JWT (application/jwt, RS256, key generated at start, served at /jwks).
// Sign-in goes through oidc-provider's development pages: type the login in `login` (any
// `password`), button "Sign-in", then button "Continue" to consent to the scopes.
//
// Environment: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI and
// OIDC_ACCOUNTS = {"<login>": {"email", "given_name", "usual_name", "siret"}}.
// Prints `ready <issuer>` once listening; exits 0 on SIGTERM or SIGINT.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(required('OIDC_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

// The signing key, new at every start; its public half is served at the JWKS endpoint.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig',
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: required('OIDC_CLIENT_ID'),
    client_secret: required('OIDC_CLIENT_SECRET'),
    redirect_uris: [required('OIDC_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // As ProConnect's clients; oidc-provider 9 takes client_secret_basic as well for a secret client.
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'email', 'given_name', 'usual_name', 'siret'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    siret: ['siret'],
  },
  features: {
    devInteractions: { enabled: true }, // built-in login and consent pages (tests only)
    jwtUserinfo: { enabled: true }, // userinfo as a signed JWT
  },
  pkce: { required: () => false }, // still verified when the client sends it
  cookies: { keys: ['guichet-tests-only'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: true,
          given_name: account.given_name,
          usual_name: account.usual_name,
          siret: account.siret,
        };
      },
    };
  },
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive sockets would hold close() back
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
