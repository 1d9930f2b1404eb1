// One source per fact (issue 14 point 5): the resolver writes base64url with the protocol's encoder and
// JCS with the protocol's canonicaliser (views-json.ts templates excepted, held to jcs() by their own
// tests), so neither the alphabet nor a second canonicaliser lives in packages/resolve/src.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { B64URL_ALPHABET } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sources = (dir: string): [string, string][] =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`${dir}/${f}`, readFileSync(join(root, dir, f), 'utf8')]);

describe('one source per fact', () => {
  it('the base64url alphabet is written once, in packages/protocol/src/encoding.ts', () => {
    const found = [...sources('packages/protocol/src'), ...sources('packages/resolve/src')]
      .filter(([, text]) => text.includes(B64URL_ALPHABET))
      .map(([f]) => f);
    expect(found).toEqual(['packages/protocol/src/encoding.ts']);
  });

  it('RFC 8785 is implemented once: the canonicalize library behind jcs(), imported only by packages/protocol/src/ijson.ts', () => {
    const found = [...sources('packages/protocol/src'), ...sources('packages/resolve/src')]
      .filter(([, text]) => /from 'canonicalize'/.test(text))
      .map(([f]) => f);
    expect(found).toEqual(['packages/protocol/src/ijson.ts']);
    // No hand-written general canonicaliser (a JSON writer that sorts member names) in the resolver.
    const sorting = sources('packages/resolve/src').filter(([, text]) => /Object\.keys\([^)]*\)\.sort\(\)[\s\S]{0,300}JSON\.stringify\(k/.test(text));
    expect(sorting.map(([f]) => f)).toEqual([]);
  });
});
