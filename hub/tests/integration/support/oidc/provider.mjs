// The school's OpenID provider for the hub's sign-in tests: panva's oidc-provider, the
// certified implementation, with its own development sign-in pages (any login, any password).
// PKCE is required of every client, as Entra ID and Google ask of a web application.
//
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// The module comes from $OIDC_PROVIDER_DIR/node_modules (scripts/fetch-oidc-provider.sh). A
// login is the account's e-mail address; one starting "unverified" is said to be unverified.
// The address is given by the userinfo endpoint only, as the standard has it, unless
// OIDC_CLAIMS_IN_ID_TOKEN=1 puts it in the ID token too (as Entra ID and Google do).
// Prints "listening ISSUER" when it serves.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const dir = process.env.OIDC_PROVIDER_DIR;
if (!dir || !redirectUri) {
  console.error('usage: OIDC_PROVIDER_DIR=DIR node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}
const { default: Provider } = await import(
  pathToFileURL(join(dir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href
);

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (ctx, login) => ({
    accountId: login,
    claims: async () => ({
      sub: login,
      email: login,
      email_verified: !login.toLowerCase().startsWith('unverified'),
      name: login.split('@')[0],
    }),
  }),
  cookies: { keys: ['rollcall-tests-only'] },
  conformIdTokenClaims: process.env.OIDC_CLAIMS_IN_ID_TOKEN !== '1',
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
