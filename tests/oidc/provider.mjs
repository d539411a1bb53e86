// A local OpenID Connect provider standing in for ProConnect in the browser tests (panva's
// oidc-provider): one confidential client, accounts given as JSON, the claims ProConnect
// gives (email, given_name, usual_name, siret) and, like ProConnect, userinfo answered as a
// signed JWT. Sign-in goes through oidc-provider's development pages: type the login (any
// password), then "Continue" to consent.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'RS256',
  }],
  scopes: ['openid', 'email', 'given_name', 'usual_name', 'siret'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    siret: ['siret'],
  },
  features: { devInteractions: { enabled: true }, jwtUserinfo: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ['guichet-tests-only'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, email_verified: true, ...account }) };
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
