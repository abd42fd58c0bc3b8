// A real OpenID Connect provider for the sign-in tests (panva/oidc-provider), standing in for
// the province's identity provider.  Started by tests/oidc/provider.py on 127.0.0.1 with a free
// port; configured by the environment it is given:
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI,
//   ID_TOKEN_TTL (seconds; short when a test needs the session to expire).
// Sign in with the development login form by typing an account id below (any password).
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

// The claims the service maps (docs/operations.md "Sign-in (OpenID Connect)"): a citizen's ID
// number, a clerk's or officer's organisation code and roles.  One js node serves all three:
// the clerk and the officer work for Jiangsu departments; the citizen is the holder of the
// templates' example licences (the demo data every node issues), a Shanghai resident.
const ACCOUNTS = {
  citizen: { name: '张三（测试市民）', id_number: '310101199003071230' },
  'clerk-js': { name: '王芳（江苏人社窗口）', org_code: '11320000MB0000300E', roles: ['relying'] },
  'officer-js': { name: '赵强（江苏市场监管发证员）', org_code: '11320000MB0000010E', roles: ['issuer'] },
  // A real person of a department this node has registered no client for: refused.
  'visitor-js': { name: '钱七（未登记部门）', org_code: '91320000MA0000099X', roles: ['relying'] },
};

const configuration = {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'profile', 'license_svc'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    license_svc: ['id_number', 'org_code', 'roles'],
  },
  // The service reads the mapped claims from the ID token, so they go there, not only to userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  ttl: { IdToken: Number(process.env.ID_TOKEN_TTL || 3600), AccessToken: 3600, Session: 3600,
         Interaction: 600, Grant: 3600, AuthorizationCode: 60 },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['license-svc-test-provider-cookie-key'] },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  // First-party client: consent is implied, as at a government identity provider.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile license_svc');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
