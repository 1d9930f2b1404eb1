import { PROTOCOL_VERSION } from '@shuniu/protocol';
import { Hono } from 'hono';
import type { JWK } from 'jose';

export interface DiscoveryDeps {
  hubId: string;
  keys: () => { signingKey: string; encryptionKey: string };
  profile: () => unknown;
  roots: () => string[];
  publicUrl: () => string;
  /** The current token key (it changes when rotated); undefined when its file is missing. */
  tokenJwk: () => JWK | undefined;
  publicRead: boolean;
}

/** /.well-known/shuniu and the JWKS (spec/node.md §Discovery). */
export function discoveryRoutes(deps: DiscoveryDeps) {
  const app = new Hono();
  app.get('/.well-known/shuniu', (c) => {
    const base = deps.publicUrl();
    return c.json({
      hub: deps.hubId,
      profile: deps.profile(),
      protocol: { versions: [PROTOCOL_VERSION] },
      node: { software: '@shuniu/hub', version: '0.1.0', api: 'v1' },
      trust: { roots: deps.roots() },
      publicRead: deps.publicRead,
      endpoints: {
        records: `${base}/v1/records`,
        heads: `${base}/v1/heads`,
        log: `${base}/v1/hubs/{hub}/log`,
        feed: `${base}/v1/feed`,
        live: `${base}/v1/feed/live`,
        state: `${base}/v1/state/{collection}`,
        stateHash: `${base}/v1/state/hash`,
        openapi: `${base}/v1/openapi.json`,
        jwks: `${base}/.well-known/jwks.json`,
      },
    });
  });
  app.get('/.well-known/jwks.json', (c) => {
    const k = deps.keys();
    const token = deps.tokenJwk();
    return c.json({
      keys: [
        { kty: 'OKP', crv: 'Ed25519', x: k.signingKey, kid: 'records', use: 'sig', alg: 'EdDSA' },
        { kty: 'OKP', crv: 'X25519', x: k.encryptionKey, kid: 'sealed', use: 'enc' },
        ...(token ? [token] : []),
      ],
    });
  });
  return app;
}
