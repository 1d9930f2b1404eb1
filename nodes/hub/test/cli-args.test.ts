import { describe, expect, it } from 'vitest';
import { args } from '../src/commands/io.js';

// Ids are base64url: one in 32 begins with "-". `shuniu erase --dir D -2…` once read it as an unknown option.
describe('command-line ids that begin with "-"', () => {
  const id = '-2bGqL6m0e1Y3wq8mYjS7p8kqL5o3Yx5cQ8bq1-Y_0A';
  const options = { dir: { type: 'string' }, hub: { type: 'string' }, all: { type: 'boolean' } } as const;

  it('reads one as a positional, and as the value of a string option', () => {
    const a = args({ args: ['--dir', 'd', id], options, allowPositionals: true });
    expect(a.positionals).toEqual([id]);
    expect(a.values.dir).toBe('d');
    const b = args({ args: ['--hub', id, '--dir', 'd'], options, allowPositionals: true });
    expect(b.values.hub).toBe(id);
    expect(b.positionals).toEqual([]);
  });

  it('still refuses an unknown option, and keeps what follows --', () => {
    expect(() => args({ args: ['--nope'], options, allowPositionals: true })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
    expect(args({ args: ['x', '--', '--all'], options, allowPositionals: true }).positionals).toEqual(['x', '--all']);
  });
});
