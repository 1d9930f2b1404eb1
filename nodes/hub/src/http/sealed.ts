import type { Context } from 'hono';
import { withoutSealed } from '../store/sqlite.js';
import { principalOf } from './access.js';

/**
 * Who may read sealed parts (spec/node.md §8.1, issue 10 design "Node
 * side"): an operator of this node, or a peer whose signed request verified
 * and whose hub this node trusts. Everyone else (anonymous, subscribers,
 * untrusted peers) gets every record without `sealed`; `sealedHash` stays,
 * so the record still verifies.
 */
export type SealedReaders = (c: Context) => boolean;

export function sealedReaders(trusted: (hub: string) => boolean): SealedReaders {
  return (c) => {
    const p = principalOf(c);
    return p.kind === 'operator' || (p.kind === 'peer' && trusted(p.hub));
  };
}

/**
 * The one stripping rule, used by every read route that serves stored
 * record texts (log, records/{id}, feed, live feed): the text as stored for
 * those who may read sealed parts, without its sealed part for the rest.
 */
export function stripSealed(c: Context, mayRead: SealedReaders, json: string): string {
  if (!json.includes('"sealed":')) return json;
  return mayRead(c) ? json : withoutSealed(json);
}
