import { ERROR_CODES } from '@shuniu/protocol';
import { z } from 'zod';

/**
 * The node's own answer shapes (spec/node.md §3, spec/errors.md): one zod
 * schema each, from which the code takes its types and the OpenAPI document
 * its components. Record and body schemas are the protocol's.
 */

/** E_FORK extension members (spec/errors.md §1): the author, the taken seq and [held id, new id]. */
const forkMembers = {
  hub: z.string().optional().describe('E_FORK: the author'),
  seq: z.int().optional().describe('E_FORK: the taken sequence number'),
  ids: z.array(z.string()).optional().describe('E_FORK: [held id, new id]'),
};

/** RFC 9457 problem document with the spec's error code. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.enum(ERROR_CODES),
  issues: z.array(z.unknown()).optional(),
  ...forkMembers,
  signer: z.string().optional().describe('E_NOT_AUTHOR: the hub that may sign the refused record'),
});
export type Problem = z.infer<typeof problemSchema>;

/**
 * Outcome for one record of a pushed batch (spec/node.md §3.2).
 * `accepted` is only ever sent after the batch's transaction committed.
 */
export const ackSchema = z.discriminatedUnion('status', [
  z.object({ index: z.int(), status: z.literal('accepted'), id: z.string(), ord: z.int() }),
  z.object({ index: z.int(), status: z.literal('duplicate'), id: z.string() }),
  z.object({ index: z.int(), status: z.literal('held'), id: z.string(), code: z.enum(['E_GAP', 'E_NOT_ADMITTED']), message: z.string() }),
  z.object({ index: z.int(), status: z.literal('blocked'), id: z.string(), code: z.literal('E_BLOCKED'), message: z.string() }),
  z.object({
    index: z.int(),
    status: z.literal('rejected'),
    id: z.string().optional(),
    code: z.string(),
    message: z.string(),
    issues: z.array(z.unknown()).optional(),
    ...forkMembers,
  }),
]);
export type Ack = z.infer<typeof ackSchema>;

/** The answer to a batch: one ack per record, in order, and the count of each status. */
export const batchAnswerSchema = z.object({ acks: z.array(ackSchema), summary: z.record(z.string(), z.int()) });
