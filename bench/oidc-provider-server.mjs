// The peer of bench/oauth.sh: node oidc-provider (pinned in package.json) serving the
// client_credentials grant with RS256 JWT access tokens (resource indicators, one resource
// server with a `read` scope), like Janus's client_credentials tokens. One process (node is
// single-threaded); PORT from the environment.
import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';

const port = Number(process.env.PORT || 19241);
const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench', client_secret: 'bench-secret-bench-secret-bench-secret',
    grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [{ ...jwk, kid: 'bench-1', alg: 'RS256', use: 'sig' }] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://api.example.com',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'read', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${port}`));
