import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assumeVerified, parseRecord, ready } from '@shuniu/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolutionVector } from '../../../../spec/tools/resolution/vectors.js';
import { modelState, modelStateHash } from './model.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'spec', 'vectors', 'resolution');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

beforeAll(ready);

describe('the reference model on the resolution vectors (spec/vectors/resolution)', () => {
  for (const file of files) {
    it(`${file}: the model computes the vector's state and state hash`, () => {
      const v = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ResolutionVector;
      const records = v.records.map((e) => assumeVerified(parseRecord(e.record), e.id));
      const s = modelState(v.roots, records);
      expect(s).toEqual(v.state);
      expect(modelStateHash(s)).toBe(v.stateHash);
    });
  }
});
