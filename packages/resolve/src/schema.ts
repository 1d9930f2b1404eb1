import {
  b64url32,
  beneficiaries,
  count,
  donorIntent,
  donorKind,
  endpointUrl,
  fen,
  hlcSchema,
  hubIdSchema,
  hubLevel,
  item,
  JSON_SCHEMA_BASE,
  localizedName,
  offerKind,
  orgKind,
  purpose,
  RECORD_TYPES,
  recordIdSchema,
  regionCode,
  rejectReason,
  timestamp,
  unit,
  urgency,
} from '@shuniu/protocol';
import { z } from 'zod';

/**
 * zod schemas of the resolved state (spec/resolution.md §7) and of what the
 * state routes serve (spec/node.md §6), with what each member means. The JSON
 * Schemas in spec/schemas/state/ are generated from these (`pnpm schemas`,
 * stateJsonSchemas()), and test/schema.test.ts checks at compile time that
 * z.infer of each schema and the TypeScript type in types.ts are mutually
 * assignable, so neither can change without the other.
 *
 * Quantities are in BASE units: a record's quantity × its unit.size (20 boxes
 * of 50 pieces are 1,000). Record and hub ids are base64url (43 characters).
 */

/**
 * A member types.ts types as `string` that only ever holds a value the record
 * schemas restrict to the enum `e` (it is copied from a verified record): the
 * TypeScript type stays `string`, the schema checks and publishes the enum.
 */
const enumString = (e: z.ZodEnum) => e as unknown as z.ZodType<string>;

/** A sum or figure in base units (quantity × unit.size). */
const base = (what: string) => count.describe(`${what}, in base units (quantity × unit.size)`);
const ids = (what: string) => z.array(recordIdSchema).describe(what);
const recordId = (what: string) => recordIdSchema.describe(what);
const hubId = (what: string) => hubIdSchema.describe(what);

// Record parts copied into the state, each member described (same constraints as the record schemas).
const itemState = z.strictObject({
  code: item.shape.code.describe('catalogue code (spec/catalogue.md), e.g. PPE.MASK.N95'),
  name: item.shape.name.describe('the item as the author wrote it'),
});
const unitState = z.strictObject({
  name: unit.shape.name.describe('the unit counted, e.g. box'),
  base: unit.shape.base.describe('the base unit every quantity of the state is in, e.g. piece'),
  size: unit.shape.size.describe('base units in one unit (a box of 50 pieces: 50)'),
});
const beneficiariesState = z.strictObject({
  group: beneficiaries.shape.group.describe('who the goods are for'),
  count: beneficiaries.shape.count.describe('how many people'),
});
const intentState = z.strictObject({
  regions: donorIntent.shape.regions.describe('GB/T 2260 prefixes the donor wants the goods to go to'),
  groups: donorIntent.shape.groups.describe('beneficiary groups the donor wants to help'),
  purposes: donorIntent.shape.purposes.describe('purposes the donor wants to fund'),
  validUntil: donorIntent.shape.validUntil.describe('after this the offer is expired'),
});

// ---- hubs ------------------------------------------------------------------------------

export const hubStatusSchema = z
  .enum(['active', 'forked', 'suspended'])
  .describe('active: admitted and not forked; forked: two records at one seq and no recovery yet; suspended: not admitted (its records are held)');

export const forkSchema = z.strictObject({
  seq: count.describe('the seq at which the hub signed two or more records'),
  ids: ids('every record id the hub signed at that seq (sorted): the proof of the fork'),
});

export const hubProfileStateSchema = z
  .strictObject({
    record: recordId('the hub.profile record in force (the latest on the hub’s counting chain)'),
    name: localizedName.describe('the hub’s name, Chinese and optionally English'),
    level: hubLevel.describe('the level the hub claims in its profile (its standing comes from its admission: the hub’s `level`)'),
    region: regionCode.describe('the GB/T 2260 code the hub claims in its profile'),
    parent: hubId('the hub the profile names as its parent').optional(),
    endpoints: z.array(endpointUrl).describe('URLs the hub’s node answers at'),
    contact: z.string().describe('free-text contact').optional(),
  })
  .describe('the hub’s latest hub.profile, as signed');

export const hubKeysStateSchema = z
  .strictObject({
    record: recordId('the hub.inception or hub.keys.rotated record the keys come from'),
    signingKey: b64url32.describe('Ed25519 public key in force (base64url)'),
    encryptionKey: b64url32.describe('X25519 public key in force, for sealed parts (base64url)'),
    recoveryCommitment: b64url32.describe('commitment to the next recovery key (spec/keys.md)'),
  })
  .describe('the keys in force: from the latest rotation on the counting chain, else the inception');

export const hubStateSchema = z
  .strictObject({
    id: hubId('the hub id: the key of this object'),
    status: hubStatusSchema,
    root: z.boolean().describe('a trusted root of this state (admitted by definition)'),
    admitted: z.boolean().describe('admitted: a root, or on a chain of in-scope hub.admitted records up to a root'),
    admissionChain: z.array(hubIdSchema).describe('hub ids from the hub that admitted this one up to a trusted root; [] for a root or a hub not admitted'),
    admission: recordId('the hub.admitted record on the chosen chain').optional(),
    level: hubLevel.describe('the hub’s standing: from its admission (the admitting hub’s word) or, for a root, its own profile').optional(),
    region: regionCode.describe('the region the hub acts for: from its admission or, for a root, its own profile').optional(),
    profile: hubProfileStateSchema.optional(),
    keys: hubKeysStateSchema.optional(),
    head: z
      .strictObject({ seq: count.describe('its seq'), id: recordId('its id') })
      .describe('the last record of the hub’s counting chain')
      .optional(),
    records: count.describe('number of this hub’s records held by the resolver (counting or not)'),
    forks: z.array(forkSchema).describe('every seq at which the hub signed more than one record, in seq order'),
    recovery: recordId('the hub.keys.rotated record with `recovery` whose branch survives (spec/keys.md §5)').optional(),
  })
  .describe('A hub, as the resolver sees it (spec/resolution.md §1): admission, profile, keys, chain head and forks.');

// ---- needs -----------------------------------------------------------------------------

export const needStatusSchema = z
  .enum(['open', 'partly_allocated', 'allocated', 'partly_delivered', 'fulfilled', 'expired', 'cancelled'])
  .describe(
    'cancelled/expired/fulfilled when closed with that reason; else fulfilled when delivered ≥ quantity; partly_delivered when delivered > 0; allocated when allocated ≥ quantity; expired when neededBy is before the clock; else partly_allocated (allocated > 0) or open (spec/resolution.md §4)',
  );

export const needStateSchema = z
  .strictObject({
    id: recordId('the need.posted record id: the key of this object'),
    hub: hubId('the hub that posted the need (its author)'),
    hlc: hlcSchema.describe('the need.posted record’s hybrid logical clock'),
    item: itemState.describe('catalogue code and name, as posted'),
    unit: unitState.describe('the unit the need was posted in (kept for display; quantities here are in its base unit)'),
    quantity: base('quantity needed: the posted quantity, or that of the latest need.updated that changes it,'),
    urgency: urgency.describe('as posted or last updated'),
    neededBy: timestamp.describe('as posted or last updated'),
    region: regionCode.describe('where the goods are needed (GB/T 2260)'),
    beneficiaries: beneficiariesState.describe('who the goods are for and how many, as posted or last updated'),
    requester: z
      .strictObject({
        name: z.string().describe('the requesting organisation'),
        kind: enumString(orgKind).describe('its kind (spec/records.md, organization)'),
        region: regionCode.describe('its region').optional(),
      })
      .describe('the organisation that asked, as posted'),
    campaign: z.string().describe('campaign tag, as posted').optional(),
    purpose: enumString(purpose).describe('purpose, as posted').optional(),
    status: needStatusSchema,
    closed: z
      .strictObject({
        reason: z.enum(['fulfilled', 'expired', 'cancelled']).describe('the need.closed record’s reason'),
        record: recordId('the need.closed record in force'),
      })
      .describe('present when a counting need.closed record closes the need')
      .optional(),
    allocated: base('sum of the standing (proposed or accepted) allocations to this need'),
    inTransit: base('shipped to the need’s hub for its allocations and not yet received (no receipt in force)'),
    received: base('accepted by the need’s hub in the receipts of shipments for its allocations'),
    delivered: base('delivered to the requester: the lines of the need’s item code in its counting custody.delivered records not superseded by a correction'),
    allocations: ids('ids of the standing allocations to this need, in resolution order (accepted first, then hlc, then id)'),
    deliveries: ids('ids of the counting custody.delivered records for this need that no correction of the same author supersedes (sorted)'),
    updates: ids('ids of the need.updated records applied, in seq order'),
  })
  .describe('A need (need.posted and what followed it), spec/resolution.md §4 and §6. Quantities in base units.');

// ---- offers ----------------------------------------------------------------------------

export const offerStatusSchema = z
  .enum(['available', 'allocated', 'withdrawn', 'expired'])
  .describe('withdrawn; allocated when allocated ≥ quantity; expired when intent.validUntil is before the clock; else available (spec/resolution.md §4)');

export const offerStateSchema = z
  .strictObject({
    id: recordId('the offer.posted record id: the key of this object'),
    hub: hubId('the hub that posted the offer (its author)'),
    hlc: hlcSchema.describe('the offer.posted record’s hybrid logical clock'),
    kind: enumString(offerKind).describe('what is offered (goods, funds, service, …), as posted'),
    item: itemState.describe('catalogue code and name, as posted'),
    unit: unitState.describe('the unit the offer was posted in (kept for display; quantities here are in its base unit)'),
    quantity: base('quantity offered: the posted quantity, or that of the latest offer.updated that changes it,'),
    valueFen: fen.describe('declared value in CNY fen (1/100 yuan), as posted or last updated'),
    donor: z
      .strictObject({
        name: z
          .string()
          .describe(
            'the donor’s name; 爱心人士 for an individual who did not agree to be named, when served to a reader that is not an operator, a subscriber or a trusted peer (spec/node.md §6)',
          ),
        kind: enumString(donorKind).describe('the donor’s kind'),
        named: z.boolean().describe('true: an individual donor agreed to be named publicly (spec/records.md §4, donor)').optional(),
      })
      .describe('who gives, as posted'),
    intent: intentState.describe('the donor’s wishes: regions, beneficiary groups, purposes, valid until'),
    region: regionCode.describe('where the offer is (warehouse, donor)'),
    availableFrom: timestamp.describe('as posted').optional(),
    campaign: z.string().describe('campaign tag, as posted').optional(),
    status: offerStatusSchema,
    withdrawn: recordId('the offer.withdrawn record in force').optional(),
    allocated: base('sum of the standing (proposed or accepted) allocations of this offer'),
    available: base('what is left to allocate: quantity − allocated, never below 0'),
    allocations: ids('ids of the standing allocations of this offer, in resolution order (accepted first, then hlc, then id)'),
    updates: ids('ids of the offer.updated records applied, in seq order'),
  })
  .describe('An offer (offer.posted and what followed it), spec/resolution.md §4. Quantities in base units.');

// ---- allocations -----------------------------------------------------------------------

export const allocationStatusSchema = z
  .enum(['proposed', 'accepted', 'declined', 'surplus', 'void'])
  .describe(
    'proposed/accepted: standing (accepted once the need’s author accepts); declined by the need’s author; surplus: did not fit in the offer or the need (surplusOf); void: items differ, or (unless accepted) offer withdrawn or need closed (voidReason)',
  );

export const allocationStateSchema = z
  .strictObject({
    id: recordId('the allocation record id: the key of this object'),
    hub: hubId('the allocating hub (the offer’s author)'),
    hlc: hlcSchema.describe('the allocation record’s hybrid logical clock'),
    offer: recordId('the offer allocated from'),
    need: recordId('the need allocated to'),
    quantity: base('quantity allocated'),
    status: allocationStatusSchema,
    decision: recordId('the allocation.accepted or allocation.declined record in force (the need author’s, highest seq)').optional(),
    surplusOf: z.enum(['offer', 'need']).describe('for surplus: the capacity it did not fit (offer: over_allocation; need: over_fulfilment)').optional(),
    voidReason: z.enum(['offer_withdrawn', 'need_closed', 'item_mismatch']).describe('for void: why').optional(),
  })
  .describe('An allocation of part of an offer to a need (spec/resolution.md §4). Quantities in base units.');

// ---- shipments (custody) ---------------------------------------------------------------

export const shipmentStatusSchema = z
  .enum(['in_transit', 'received', 'received_with_discrepancy', 'overdue'])
  .describe(
    'received: a receipt accepts every line fully; received_with_discrepancy: a receipt accepts less on some line; without a receipt, overdue when expectedArrival is before the clock, else in_transit (spec/resolution.md §6)',
  );

export const shipmentLineStateSchema = z
  .strictObject({
    item: itemState.describe('catalogue code and name, as handed off'),
    unit: unitState.describe('the unit of the handoff line (kept for display)'),
    lot: z.string().describe('lot number, as handed off').optional(),
    expiry: timestamp.describe('expiry, as handed off').optional(),
    shipped: base('quantity handed off'),
    accepted: base('accepted in the receipt in force; present once a receipt is in force').optional(),
    rejected: base('rejected in the receipt in force (with rejectReason)').optional(),
    missing: base('missing in the receipt in force').optional(),
    rejectReason: enumString(rejectReason).describe('why goods were rejected, from the receipt line').optional(),
    unaccounted: z
      .int()
      .describe(
        'shipped − accepted − rejected − missing, in base units (negative when the receipt counts more than was shipped); non-zero only with a receipt_mismatch conflict',
      )
      .optional(),
  })
  .describe('One line of the handoff version in force, with the receipt’s figures once there is one.');

export const shipmentStateSchema = z
  .strictObject({
    id: recordId('the first custody.handoff (the one no correction names as corrected): the shipment’s identity and the key of this object'),
    handoff: recordId('the handoff version in force (the counting one with the highest seq)'),
    versions: ids('every handoff version of the shipment: the first and its corrections (sorted)'),
    hub: hubId('the sender: author of the first handoff'),
    from: hubId('the hub the goods leave (the handoff’s from)'),
    to: hubId('the hub receiving them'),
    shipment: z.string().describe('the sender’s shipment reference'),
    expectedArrival: timestamp.describe('from the version in force'),
    allocations: ids('the allocations the goods are for, from the version in force, in its order'),
    lines: z.array(shipmentLineStateSchema).describe('the lines of the version in force, in its order'),
    status: shipmentStatusSchema,
    late: z.boolean().describe('received after the neededBy of a need it carries goods for'),
    receipt: recordId('the custody.receipt in force (the to hub’s counting receipt with the highest seq)').optional(),
    received: timestamp.describe('when the goods arrived, from the receipt in force').optional(),
    shipped: base('sum of the lines’ shipped'),
    accepted: base('sum of the lines’ accepted (with a receipt)').optional(),
    rejected: base('sum of the lines’ rejected (with a receipt)').optional(),
    missing: base('sum of the lines’ missing (with a receipt)').optional(),
  })
  .describe('A shipment: custody.handoff, its corrections and the receipt in force (spec/resolution.md §6). Quantities in base units.');

// ---- conflicts -------------------------------------------------------------------------

export const CONFLICT_RULES = [
  'unauthorised',
  'over_allocation',
  'over_fulfilment',
  'item_mismatch',
  'duplicate_need',
  'receipt_mismatch',
  'delivered_beyond_received',
  'double_handoff',
  'fork',
  'admission_scope',
] as const;

export const conflictRuleSchema = z.enum(CONFLICT_RULES).describe('the rule of spec/resolution.md the records break');

const detailValue = z.union([z.string(), z.int(), z.boolean(), z.array(z.string())]);
const itemCode = item.shape.code;

/**
 * The `detail` of a conflict of each rule (spec/resolution.md §1–§6): a JSON
 * Schema `if rule … then detail …` in conflict.json, checked by the tests on
 * every conflict of every vector and of the served state.
 */
export const conflictDetailSchemas = {
  unauthorised: z.strictObject({
    type: z.enum(RECORD_TYPES as [string, ...string[]]).describe('the type of the unauthorised record'),
    author: hubId('the hub that signed it'),
    expected: hubId('the hub that alone may sign such a record for that target (spec/resolution.md §2)'),
  }),
  over_allocation: z.strictObject({
    offered: base('the offer’s quantity'),
    requested: base('sum of the allocations of the offer that are neither void nor declined'),
    standing: base('sum of those that fit (first fit in resolution order)'),
    surplus: ids('the allocations that did not fit (sorted)'),
  }),
  over_fulfilment: z.strictObject({
    needed: base('the need’s quantity'),
    allocated: base('sum of the allocations to the need standing after the offer pass'),
    standing: base('sum of those that fit (first fit in resolution order)'),
    surplus: ids('the allocations that did not fit (sorted)'),
  }),
  item_mismatch: z.strictObject({
    offerItem: itemCode.describe('the offer’s item code'),
    needItem: itemCode.describe('the need’s item code'),
  }),
  duplicate_need: z.strictObject({
    requester: z.string().describe('the requester’s name shared by the cluster'),
    item: itemCode.describe('the item code shared by the cluster'),
    needs: count.describe('how many needs the cluster holds'),
  }),
  receipt_mismatch: z.strictObject({
    shipped: base('what the version in force ships'),
    accounted: base('accepted + rejected + missing in the receipt in force'),
  }),
  delivered_beyond_received: z.strictObject({
    item: itemCode.describe('the item code'),
    received: base('what the hub accepted of that item in receipts of shipments to it'),
    delivered: base('what its counting deliveries of that item deliver'),
  }),
  double_handoff: z.union([
    z
      .strictObject({
        allocation: recordId('the allocation handed off twice'),
        held: base('the allocation’s quantity'),
        handedOff: base('what the sender’s shipments to two or more receivers attribute to it'),
      })
      .describe('per sender and allocation (records: the allocation and the shipments)'),
    z
      .strictObject({
        item: itemCode.describe('the item code'),
        lot: z.string().describe('the lot ("" when the lines name none)'),
        held: base('what the sender accepted of that lot in receipts'),
        handedOff: base('what it shipped of that lot to two or more receivers'),
      })
      .describe('per sender, item and lot (records: the shipments and receipts)'),
  ]),
  fork: z.strictObject({
    seq: count.describe('the seq signed twice'),
    recovered: z.boolean().describe('a recovery settled it (spec/keys.md §5)'),
  }),
  admission_scope: z.strictObject({
    child: hubId('the hub the admission names'),
    level: hubLevel.describe('the level it grants'),
    region: regionCode.describe('the region it grants'),
    admitterLevel: hubLevel.describe('the admitting hub’s level').optional(),
    admitterRegion: regionCode.describe('the admitting hub’s region').optional(),
  }),
} satisfies Record<(typeof CONFLICT_RULES)[number], z.ZodType<Record<string, z.infer<typeof detailValue>>>>;

const CONFLICT_ID = new RegExp(`^[A-Za-z0-9_-]{43}/(?:${CONFLICT_RULES.join('|')})(?:/[A-Za-z0-9._-]+)?$`);

export const conflictSchema = z
  .strictObject({
    id: z
      .string()
      .regex(CONFLICT_ID)
      .describe('`<subject id>/<rule>[/<qualifier>]`, stable while the subject exists: the key of this object (spec/resolution.md)'),
    rule: conflictRuleSchema,
    records: ids('record ids involved (sorted)'),
    hubs: z.array(hubIdSchema).describe('hub ids involved (sorted)'),
    detail: z
      .record(z.string(), detailValue)
      .describe('the figures of the rule (members by rule: see the if/then of this schema and spec/resolution.md); quantities in base units'),
  })
  .describe('A conflict the resolver found (spec/resolution.md §1–§6): recorded, never settled by dropping records.');

// ---- bundles ---------------------------------------------------------------------------

export const bundleStatusSchema = z
  .enum(['open', 'partly_funded', 'funded', 'completed', 'cancelled'])
  .describe(
    'completed/cancelled when closed by its author; else funded when pledges in force sum above 0 and reach targetFen (or there is no target); partly_funded when they sum above 0 below targetFen; else open (spec/resolution.md §7.2)',
  );

const fenState = (what: string) => count.describe(`${what}, in CNY fen`);

export const bundleProgressSchema = z
  .strictObject({
    needs: count.describe('how many needs the bundle lists'),
    missing: count.describe('listed ids that are not needs of the state (not held yet, not counting, or not a need)'),
    open: count.describe('listed needs with nothing allocated yet'),
    allocated: count.describe('listed needs with allocations standing and nothing shipped or delivered yet'),
    inTransit: count.describe('listed needs with goods on the way, received or partly delivered'),
    delivered: count.describe('listed needs fulfilled'),
    closed: count.describe('listed needs cancelled or expired'),
    items: z
      .array(
        z.strictObject({
          code: item.shape.code.describe('catalogue code'),
          base: unit.shape.base.describe('the base unit of the figures (that of the need with the smallest id of this code)'),
          requested: base('sum of the quantities of the listed needs of this code that are not cancelled'),
          allocated: base('sum of their allocated (at most each need’s quantity)'),
          inTransit: base('sum of their inTransit'),
          delivered: base('sum of their delivered (at most each need’s quantity)'),
        }),
      )
      .describe('per item code (sorted): quantities covered over requested'),
  })
  .describe('what the bundle’s needs have come to, derived from the needs of the state alone (spec/resolution.md §7.2)');

export const bundleStateSchema = z
  .strictObject({
    id: recordId('the bundle.posted record id: the key of this object'),
    hub: hubId('the hub that posted the bundle (its author, the only hub that may update it)'),
    hlc: hlcSchema.describe('the bundle.posted record’s hybrid logical clock'),
    title: z.string().describe('as posted or last updated'),
    region: regionCode.describe('the area the project serves, as posted'),
    description: z.string().describe('as posted or last updated').optional(),
    targetFen: fenState('the money the project asks for, as posted or last updated').optional(),
    campaign: z.string().describe('campaign tag, as posted').optional(),
    needs: ids('the need ids listed: as posted, then each bundle.updated’s add and remove in seq order (sorted)'),
    status: bundleStatusSchema,
    closed: z
      .strictObject({
        reason: z.enum(['completed', 'cancelled']).describe('the close of the latest bundle.updated that closes the bundle'),
        record: recordId('that bundle.updated record'),
      })
      .describe('present when its author closed the bundle')
      .optional(),
    updates: ids('ids of the bundle.updated records applied (by the author), in seq order'),
    funding: z
      .array(
        z.strictObject({
          hub: hubId('the funder'),
          record: recordId('its bundle.funded record in force (its highest seq naming this bundle)'),
          amountFen: fenState('its pledge for the whole bundle (above 0)'),
        }),
      )
      .describe('the pledges in force, by funder hub (sorted); a pledge of 0 withdraws and is not listed'),
    fundedFen: fenState('sum of the pledges in force'),
    progress: bundleProgressSchema,
  })
  .describe('A bundle of needs funded as a whole (bundle.posted and what followed it), spec/resolution.md §7.2.');

// ---- the whole state and what the routes serve -----------------------------------------

export const heldSchema = z.record(recordIdSchema, hubIdSchema).describe('records of hubs not admitted: record id → author hub id');
export const pendingSchema = z
  .record(recordIdSchema, z.array(recordIdSchema))
  .describe('ids named by counting records that are not (yet) an object: missing id → the waiting record ids (sorted), spec/resolution.md §7');

export const resolvedStateSchema = z
  .strictObject({
    v: z.literal(1).describe('version of the state format'),
    clock: count.describe('greatest hlc.ms of any record held, in milliseconds: the clock for overdue and expired (never the local clock)'),
    hubs: z.record(hubIdSchema, hubStateSchema).describe('hub id → hub'),
    needs: z.record(recordIdSchema, needStateSchema).describe('need id → need'),
    offers: z.record(recordIdSchema, offerStateSchema).describe('offer id → offer'),
    allocations: z.record(recordIdSchema, allocationStateSchema).describe('allocation id → allocation'),
    shipments: z.record(recordIdSchema, shipmentStateSchema).describe('shipment id (its first handoff) → shipment'),
    conflicts: z.record(z.string(), conflictSchema).describe('conflict id → conflict'),
    held: heldSchema,
    pending: pendingSchema,
    bundles: z
      .record(recordIdSchema, bundleStateSchema)
      .describe('bundle id → bundle; present only when there is at least one (spec/resolution.md §7.2)')
      .optional(),
  })
  .describe(
    'The resolved state (spec/resolution.md §7): what every replica computes from the same set of verified records; the state hash covers exactly this.',
  );

/** An item of GET /v1/state/held: one entry of the `held` map. */
export const heldItemSchema = z
  .strictObject({ id: recordId('a held record'), value: hubId('its author, a hub not admitted') })
  .describe('An entry of the state’s held map, as GET /v1/state/held serves it.');
/** An item of GET /v1/state/pending: one entry of the `pending` map. */
export const pendingItemSchema = z
  .strictObject({ id: recordId('an id named by counting records that is not (yet) an object'), value: ids('the counting records naming it (sorted)') })
  .describe('An entry of the state’s pending map, as GET /v1/state/pending serves it.');

/** The item schema of each collection of GET /v1/state/{collection} (spec/node.md §6). */
export const stateItemSchemas = {
  hubs: hubStateSchema,
  needs: needStateSchema,
  offers: offerStateSchema,
  allocations: allocationStateSchema,
  shipments: shipmentStateSchema,
  conflicts: conflictSchema,
  held: heldItemSchema,
  pending: pendingItemSchema,
  bundles: bundleStateSchema,
} as const;
export type StateCollection = keyof typeof stateItemSchemas;
export const STATE_COLLECTIONS = Object.keys(stateItemSchemas) as StateCollection[];

/** A page of GET /v1/state/{collection}. */
export function statePageSchema(collection: StateCollection) {
  return z
    .strictObject({
      [collection]: z.array(stateItemSchemas[collection] as z.ZodType).describe(`the ${collection}, in key order (their id, compared by code unit)`),
      next: z.string().nullable().describe('the key of the page’s last item when more follow (read on with after=next), else null'),
      version: b64url32.describe('the state hash of the snapshot the page was cut from (also the weak ETag)'),
      clock: count.describe('the state’s record clock (its clock member) at that version'),
    })
    .describe(`A page of GET /v1/state/${collection} (spec/node.md §6).`);
}

/** GET /v1/state/hash. */
export const stateHashAnswerSchema = z
  .strictObject({
    stateHash: b64url32.describe('the resolver’s state hash (spec/resolution.md §7)'),
    records: count.describe('the node’s highest record ordinal (records stored)'),
  })
  .describe('The answer of GET /v1/state/hash (spec/node.md §6).');

/** Object schemas by the file they are published in, spec/schemas/state/<name>.json. */
const STATE_SCHEMA_FILES = {
  hub: hubStateSchema,
  need: needStateSchema,
  offer: offerStateSchema,
  allocation: allocationStateSchema,
  shipment: shipmentStateSchema,
  conflict: conflictSchema,
  'held-item': heldItemSchema,
  'pending-item': pendingItemSchema,
  bundle: bundleStateSchema,
  state: resolvedStateSchema,
  hash: stateHashAnswerSchema,
} as const;

/** Base of the `$id` of every state schema: spec/schemas/state/. */
export const STATE_SCHEMA_BASE = `${JSON_SCHEMA_BASE}state/`;

/**
 * JSON Schemas (draft 2020-12) of the resolved state and the state routes,
 * generated from the zod schemas above: one file per object (hub.json,
 * need.json, offer.json, allocation.json, shipment.json, conflict.json,
 * held-item.json, pending-item.json), the whole state (state.json), the answer
 * of GET /v1/state/hash (hash.json) and a page of each collection
 * (page.<collection>.json). They refer to each other by `$id`
 * (https://shuniu.org/spec/schemas/state/<file>); load them all into one
 * validator. conflict.json adds, per rule, the members of `detail`.
 */
export function stateJsonSchemas(): Record<string, Record<string, unknown>> {
  const reg = z.registry<{ id: string }>();
  const titles: Record<string, string> = {};
  for (const [name, schema] of Object.entries(STATE_SCHEMA_FILES)) {
    reg.add(schema as z.ZodType, { id: name });
    titles[name] = `Shuniu resolved state: ${name}`;
  }
  for (const c of STATE_COLLECTIONS) {
    reg.add(statePageSchema(c), { id: `page.${c}` });
    titles[`page.${c}`] = `Shuniu GET /v1/state/${c}: one page`;
  }
  const { schemas } = z.toJSONSchema(reg, { target: 'draft-2020-12', io: 'input', uri: (id) => `${STATE_SCHEMA_BASE}${id}.json` }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, s] of Object.entries(schemas)) {
    const { $schema, $id, ...rest } = s;
    const file: Record<string, unknown> = { $schema, $id, title: titles[name], ...rest };
    if (name === 'conflict') {
      // detail's members by rule, as JSON Schema conditionals.
      file.allOf = CONFLICT_RULES.map((rule) => {
        const { $schema: _, ...detail } = z.toJSONSchema(conflictDetailSchemas[rule], { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
        // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword `then` (if/then)
        return { if: { properties: { rule: { const: rule } } }, then: { properties: { detail } } };
      });
    }
    out[`${name}.json`] = file;
  }
  return out;
}
