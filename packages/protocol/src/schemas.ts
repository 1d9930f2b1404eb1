import { z } from 'zod';

/**
 * Record schemas. Every object is strict (unknown members refused) except
 * `ext`, the one place for extensions. Every number on the wire is a safe
 * integer: quantities in whole units, money in CNY fen. See spec/records.md.
 */

export const PROTOCOL_VERSION = 1 as const;

const B64URL_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const B64URL_64 = /^[A-Za-z0-9_-]{85}[AQgw]$/;

/** SHA-256 digest or 32-byte key, base64url without padding (43 characters, canonical). */
export const b64url32 = z.string().regex(B64URL_32, 'expected 32 bytes in base64url without padding');
export const recordIdSchema = b64url32.describe('record id: base64url(SHA-256(signed bytes))');
export const hubIdSchema = b64url32.describe('hub id: base64url(SHA-256(JCS(inception body)))');
export const signatureSchema = z.string().regex(B64URL_64, 'expected 64 bytes in base64url without padding');

/** Integer within ±(2^53−1). */
export const int = z.int();
export const count = z.int().min(0);
export const positive = z.int().min(1);
export const fen = z.int().min(0).describe('money in CNY fen (1/100 yuan)');

/** GB/T 2260 six-digit administrative division code, e.g. 420902 (Xiaonan district). */
export const regionCode = z.string().regex(/^[1-9][0-9]{5}$/, 'expected a six-digit GB/T 2260 code');
/** A region prefix: 2 digits (province), 4 (prefecture) or 6 (county). */
export const regionPrefix = z.string().regex(/^[1-9][0-9]([0-9]{2}){0,2}$/, 'expected 2, 4 or 6 digits of a GB/T 2260 code');

/**
 * A date that exists in the proleptic Gregorian calendar, YYYY-MM-DD
 * (spec/encoding.md §5.4): days 29 and 30 in every month but February, 31 in
 * the months that have it, 29 February only in leap years (divisible by 4 and
 * not by 100, or by 400). Written as one pattern so the JSON Schemas carry
 * the whole rule and every language reads it the same (ASCII classes only).
 */
const CALENDAR_DATE =
  '(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)' +
  '|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26]|00)00)-02-29)';

/** The timestamp pattern of spec/encoding.md §5.4: a real calendar date, 00:00:00 to 23:59:59 (no leap second 60), optional milliseconds, Z. */
export const TIMESTAMP_PATTERN = new RegExp(`^${CALENDAR_DATE}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{3})?Z$`);

/** RFC 3339 timestamp in UTC with a Z suffix, second or millisecond precision, of a date that exists. */
export const timestamp = z
  .string()
  .regex(TIMESTAMP_PATTERN, 'expected an RFC 3339 UTC timestamp of a real date and time such as 2020-01-24T08:00:00Z (no 2020-02-31, no second 60)');

export const text = (max: number) => z.string().min(1).max(max);
export const ext = z.record(z.string(), z.unknown()).describe('extensions: the only object that may hold members this version does not define');

/**
 * An http(s) endpoint URL, checked by a pattern alone: no parser that would
 * trim or normalize the value (zod's z.url() strips whitespace, so the parsed
 * record differed from the signed one), and simple to implement elsewhere.
 * Hosts are ASCII (IDNs in punycode); no user info.
 */
export const endpointUrl = z
  .string()
  .max(500)
  .regex(/^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?([/?#][\x21-\x7E]*)?$/, 'expected an http(s) URL such as https://hub.example.org/');

export const localizedName = z.strictObject({ zh: text(200), en: text(200).optional() });

export const hubLevel = z.enum(['national', 'province', 'city', 'county', 'org']);
export const urgency = z.enum(['critical', 'high', 'normal', 'low']);
export const beneficiaryGroup = z.enum([
  'medical_staff',
  'patients',
  'community_workers',
  'elderly',
  'children',
  'disabled',
  'students',
  'migrant_workers',
  'bereaved_families',
  'general_public',
  'volunteers',
  'other',
]);
export const offerKind = z.enum(['goods', 'funds', 'service', 'transport', 'storage', 'volunteers', 'pass']);
export const purpose = z.enum([
  'medical_protection',
  'medical_treatment',
  'daily_living',
  'food',
  'shelter',
  'logistics',
  'psychosocial',
  'cash_assistance',
  'insurance',
  'operations',
  'other',
]);
export const orgKind = z.enum(['hospital', 'community', 'frontline_group', 'school', 'care_home', 'government', 'warehouse', 'other']);
export const donorKind = z.enum(['foundation', 'company', 'individual', 'government', 'volunteer_group', 'other']);

/** Catalogue code (dotted upper-case, e.g. PPE.MASK.N95) plus free text as the requester wrote it. */
export const item = z.strictObject({
  code: z
    .string()
    .regex(/^[A-Z0-9]+(\.[A-Z0-9_-]+)*$/, 'expected a dotted catalogue code such as PPE.MASK.N95')
    .max(64),
  name: text(200),
});

/**
 * The unit a quantity is counted in: `name` is the unit counted (box),
 * `base` the smallest unit (piece) and `size` how many base units one unit
 * holds. 20 boxes of 50 masks: quantity 20, unit {name:"box", base:"piece", size:50}.
 */
export const unit = z.strictObject({ name: text(32), base: text(32), size: positive });

export const organization = z.strictObject({ name: text(200), kind: orgKind, region: regionCode.optional() });
export const donor = z.strictObject({
  name: text(200),
  kind: donorKind,
  named: z.boolean().optional().describe('true when an individual donor agreed to be named publicly; absent or false: shown anonymously'),
});
export const hlcSchema = z.strictObject({
  ms: count.describe('wall-clock milliseconds since 1970-01-01T00:00:00Z'),
  c: z.int().min(0).max(65535).describe('logical counter'),
});
export const idList = (max: number) => z.array(recordIdSchema).max(max);

// ---- hub records -------------------------------------------------------

export const hubInceptionBody = z.strictObject({
  signingKey: b64url32.describe('Ed25519 public key'),
  encryptionKey: b64url32.describe('X25519 public key for sealed parts'),
  recoveryCommitment: b64url32.describe('base64url(SHA-256(recovery Ed25519 public key))'),
  created: timestamp,
  ext: ext.optional(),
});

export const hubProfileBody = z.strictObject({
  name: localizedName,
  level: hubLevel,
  region: regionCode,
  parent: hubIdSchema.optional(),
  endpoints: z.array(endpointUrl).max(8),
  contact: text(200).optional(),
  ext: ext.optional(),
});

export const hubAdmittedBody = z.strictObject({
  child: hubIdSchema,
  level: hubLevel,
  region: regionCode,
  ext: ext.optional(),
});

export const hubAdmissionRevokedBody = z.strictObject({
  child: hubIdSchema.describe('the hub whose admission by the author is withdrawn'),
  reason: text(2000).optional(),
  ext: ext.optional(),
});

export const hubKeysRotatedBody = z.strictObject({
  signingKey: b64url32,
  encryptionKey: b64url32,
  recoveryCommitment: b64url32.describe('commitment to the next recovery key'),
  recovery: z.strictObject({ key: b64url32.describe('the recovery public key now revealed; the record is signed with it') }).optional(),
  ext: ext.optional(),
});

// ---- needs ---------------------------------------------------------------

export const beneficiaries = z.strictObject({ group: beneficiaryGroup, count: count });

export const needPostedBody = z.strictObject({
  item,
  quantity: positive,
  unit,
  urgency,
  neededBy: timestamp,
  region: regionCode,
  beneficiaries,
  requester: organization,
  campaign: text(64).optional(),
  purpose: purpose.optional(),
  note: text(2000).optional(),
  ext: ext.optional(),
});

export const needUpdatedBody = z
  .strictObject({
    need: recordIdSchema,
    quantity: positive.optional(),
    urgency: urgency.optional(),
    neededBy: timestamp.optional(),
    beneficiaries: beneficiaries.optional(),
    note: text(2000).optional(),
    ext: ext.optional(),
  })
  .refine((b) => b.quantity !== undefined || b.urgency !== undefined || b.neededBy !== undefined || b.beneficiaries !== undefined || b.note !== undefined, {
    message: 'need.updated must change at least one of quantity, urgency, neededBy, beneficiaries, note',
  });

export const needClosedBody = z.strictObject({
  need: recordIdSchema,
  reason: z.enum(['fulfilled', 'expired', 'cancelled']),
  note: text(2000).optional(),
  ext: ext.optional(),
});

// ---- offers --------------------------------------------------------------

export const donorIntent = z.strictObject({
  regions: z.array(regionPrefix).max(100).optional(),
  groups: z.array(beneficiaryGroup).max(20).optional(),
  purposes: z.array(purpose).max(20).optional(),
  validUntil: timestamp.optional(),
});

/** What volunteers can do (spec/records.md §4 volunteerSkill): the skills Guiyang's neighbourhood map listed, and the work of relief hubs. */
export const volunteerSkill = z.enum([
  'medical',
  'nursing',
  'psychosocial',
  'driving',
  'logistics',
  'warehouse',
  'cooking',
  'elderly_care',
  'childcare',
  'disability_care',
  'translation',
  'sign_language',
  'it',
  'repair',
  'construction',
  'teaching',
  'legal',
  'outreach',
  'other',
]);
export const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
/** A time of day, 24-hour HH:MM (00:00 to 23:59). */
export const timeOfDay = z.string().regex(/^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/, 'expected a 24-hour time of day such as 08:30');

/** When volunteers can help (every member optional: absent means no restriction). */
export const volunteerAvailability = z.strictObject({
  days: z.array(weekday).min(1).max(7).optional(),
  hours: z.strictObject({ start: timeOfDay, end: timeOfDay }).optional().describe('daily hours; an end before the start runs past midnight'),
  from: timestamp.optional(),
  until: timestamp.optional(),
  remote: z.boolean().optional().describe('true when they can also help from afar (phone, online)'),
});

/** The skills and availability of an offer of kind `volunteers`; its quantity counts people. */
export const volunteerTeam = z.strictObject({
  skills: z
    .array(volunteerSkill)
    .min(1)
    .max(20)
    .refine((a) => new Set(a).size === a.length, { message: 'each skill at most once' })
    .describe('1…20 skills, each at most once'),
  availability: volunteerAvailability,
});

export const offerPostedBody = z
  .strictObject({
    kind: offerKind,
    item,
    quantity: positive,
    unit,
    valueFen: fen,
    donor,
    intent: donorIntent,
    region: regionCode.describe('where the offer is (warehouse, donor)'),
    availableFrom: timestamp.optional(),
    campaign: text(64).optional(),
    note: text(2000).optional(),
    volunteers: volunteerTeam.optional().describe('skills and availability; only with kind volunteers'),
    ext: ext.optional(),
  })
  .refine((b) => b.volunteers === undefined || b.kind === 'volunteers', {
    message: 'volunteers (skills and availability) only on an offer of kind volunteers',
    path: ['volunteers'],
  });

export const offerUpdatedBody = z
  .strictObject({
    offer: recordIdSchema,
    quantity: positive.optional(),
    valueFen: fen.optional(),
    intent: donorIntent.optional(),
    note: text(2000).optional(),
    ext: ext.optional(),
  })
  .refine((b) => b.quantity !== undefined || b.valueFen !== undefined || b.intent !== undefined || b.note !== undefined, {
    message: 'offer.updated must change at least one of quantity, valueFen, intent, note',
  });

export const offerWithdrawnBody = z.strictObject({ offer: recordIdSchema, reason: text(2000).optional(), ext: ext.optional() });

// ---- allocations -----------------------------------------------------------

export const allocationBody = z.strictObject({
  offer: recordIdSchema,
  need: recordIdSchema,
  quantity: positive.describe("in base units of the item (the unit's `base`)"),
  note: text(2000).optional(),
  ext: ext.optional(),
});
export const allocationAcceptedBody = z.strictObject({ allocation: recordIdSchema, note: text(2000).optional(), ext: ext.optional() });
export const allocationDeclinedBody = z.strictObject({ allocation: recordIdSchema, reason: text(2000).optional(), ext: ext.optional() });

// ---- custody ----------------------------------------------------------------

export const shipmentLine = z.strictObject({
  item,
  quantity: positive,
  unit,
  lot: text(64).optional(),
  expiry: timestamp.optional(),
});

export const custodyHandoffBody = z.strictObject({
  shipment: text(64).describe('sender-chosen shipment reference'),
  from: hubIdSchema,
  to: hubIdSchema,
  lines: z.array(shipmentLine).min(1).max(200),
  carrier: z.strictObject({ name: text(200), kind: z.enum(['chartered_truck', 'third_party', 'hub_vehicle', 'volunteer', 'post', 'other']) }).optional(),
  waybill: text(64).optional(),
  expectedArrival: timestamp,
  allocations: idList(200),
  corrects: recordIdSchema.optional().describe('the handoff this one replaces'),
  note: text(2000).optional(),
  ext: ext.optional(),
});

export const rejectReason = z.enum(['damaged', 'expired', 'wrong_item', 'counterfeit', 'other']);

export const receiptLine = z
  .strictObject({
    line: count.describe('index into the handoff lines'),
    accepted: count,
    rejected: count,
    rejectReason: rejectReason.optional(),
    missing: count,
  })
  .refine((l) => l.rejected === 0 || l.rejectReason !== undefined, { message: 'rejected goods need a rejectReason', path: ['rejectReason'] });

export const custodyReceiptBody = z.strictObject({
  handoff: recordIdSchema,
  lines: z.array(receiptLine).min(1).max(200),
  received: timestamp,
  corrects: recordIdSchema.optional().describe('the receipt this one replaces'),
  note: text(2000).optional(),
  ext: ext.optional(),
});

export const custodyDeliveredBody = z.strictObject({
  need: recordIdSchema,
  handoffs: idList(50).min(1).describe('shipments received by the author that the goods came from'),
  lines: z
    .array(z.strictObject({ item, quantity: positive, unit }))
    .min(1)
    .max(200),
  recipient: organization,
  peopleServed: count,
  delivered: timestamp,
  corrects: recordIdSchema.optional(),
  note: text(2000).optional(),
  ext: ext.optional(),
});

export const attestationBody = z.strictObject({
  subject: recordIdSchema,
  kind: z.enum(['device_check', 'delivery_confirmed', 'organization_verified', 'quality_check', 'recovery_vouched', 'other']),
  result: z.enum(['pass', 'fail']),
  note: text(2000).optional(),
  ext: ext.optional(),
});

// ---- bundles -----------------------------------------------------------------

/** Distinct ids (a bundle lists each need once). */
const distinctIds = (max: number) =>
  idList(max)
    .min(1)
    .refine((a) => new Set(a).size === a.length, { message: 'each id at most once' });

/**
 * A fundable project of many needs (spec/records.md §5.20): a hub groups needs,
 * its own or other hubs', as Wuhan NPI passed the needs of community groups to
 * foundations. Its progress is its needs' progress (spec/resolution.md §7.2).
 */
export const bundlePostedBody = z.strictObject({
  title: text(200),
  region: regionCode.describe('the area the project serves'),
  needs: distinctIds(200).describe('1…200 need.posted ids, each at most once'),
  description: text(2000).optional(),
  targetFen: fen.optional().describe('the money the project asks for'),
  campaign: text(64).optional(),
  ext: ext.optional(),
});

export const bundleUpdatedBody = z
  .strictObject({
    bundle: recordIdSchema,
    add: distinctIds(200).optional().describe('needs added to the bundle'),
    remove: distinctIds(200).optional().describe('needs removed from the bundle'),
    title: text(200).optional(),
    description: text(2000).optional(),
    targetFen: fen.optional(),
    close: z.enum(['completed', 'cancelled']).optional().describe('closes the bundle'),
    note: text(2000).optional(),
    ext: ext.optional(),
  })
  .refine(
    (b) =>
      b.add !== undefined ||
      b.remove !== undefined ||
      b.title !== undefined ||
      b.description !== undefined ||
      b.targetFen !== undefined ||
      b.close !== undefined ||
      b.note !== undefined,
    { message: 'bundle.updated must change at least one of add, remove, title, description, targetFen, close, note' },
  );

export const bundleFundedBody = z.strictObject({
  bundle: recordIdSchema,
  amountFen: fen.describe('the pledge in force of the author for the whole bundle; 0 withdraws an earlier pledge'),
  note: text(2000).optional(),
  ext: ext.optional(),
});

// ---- sealed parts ---------------------------------------------------------------

export const sealedErasedBody = z.strictObject({
  record: recordIdSchema.describe('the record whose sealed part every node is asked to erase'),
  reason: text(2000).optional(),
  ext: ext.optional(),
});

/** The body schema of every record type. Adding a type is a protocol change. */
export const bodySchemas = {
  'hub.inception': hubInceptionBody,
  'hub.profile': hubProfileBody,
  'hub.admitted': hubAdmittedBody,
  'hub.admission.revoked': hubAdmissionRevokedBody,
  'hub.keys.rotated': hubKeysRotatedBody,
  'need.posted': needPostedBody,
  'need.updated': needUpdatedBody,
  'need.closed': needClosedBody,
  'offer.posted': offerPostedBody,
  'offer.updated': offerUpdatedBody,
  'offer.withdrawn': offerWithdrawnBody,
  allocation: allocationBody,
  'allocation.accepted': allocationAcceptedBody,
  'allocation.declined': allocationDeclinedBody,
  'custody.handoff': custodyHandoffBody,
  'custody.receipt': custodyReceiptBody,
  'custody.delivered': custodyDeliveredBody,
  attestation: attestationBody,
  'sealed.erased': sealedErasedBody,
  'bundle.posted': bundlePostedBody,
  'bundle.updated': bundleUpdatedBody,
  'bundle.funded': bundleFundedBody,
} as const;

export type RecordType = keyof typeof bodySchemas;
export const RECORD_TYPES = Object.keys(bodySchemas) as RecordType[];
export type BodyOf<T extends RecordType> = z.infer<(typeof bodySchemas)[T]>;

/**
 * Longest `ct` of a sealed part, in base64url characters (spec/encoding.md §4):
 * 196,608 bytes of ciphertext, so a sealed payload of at most 196,592 bytes.
 */
export const MAX_SEALED_CT = 262_144;

/** The sealed part: a payload encrypted once and its key sealed to each named hub. */
export const sealedSchema = z.strictObject({
  alg: z.literal('x25519-xsalsa20poly1305'),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'expected 24 bytes in base64url'),
  ct: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .max(MAX_SEALED_CT, `at most ${MAX_SEALED_CT} characters (spec/encoding.md §4)`),
  to: z
    .array(z.strictObject({ hub: hubIdSchema, key: z.string().regex(/^[A-Za-z0-9_-]{106}[AEIMQUYcgkosw048]$/, 'expected 80 bytes in base64url') }))
    .min(1)
    .max(32),
});
export type Sealed = z.infer<typeof sealedSchema>;

const envelopeShape = {
  v: z.literal(PROTOCOL_VERSION),
  hub: hubIdSchema,
  seq: count,
  prev: recordIdSchema.nullable(),
  hlc: hlcSchema,
  sealedHash: b64url32.optional().describe('base64url(SHA-256(JCS(sealed))): signed in place of the sealed part'),
  sealed: sealedSchema.optional(),
  sig: signatureSchema,
};

function recordSchemaFor<T extends RecordType>(type: T) {
  return z.strictObject({ ...envelopeShape, type: z.literal(type), body: bodySchemas[type] as (typeof bodySchemas)[T] });
}

export const recordSchemas = {
  'hub.inception': recordSchemaFor('hub.inception'),
  'hub.profile': recordSchemaFor('hub.profile'),
  'hub.admitted': recordSchemaFor('hub.admitted'),
  'hub.admission.revoked': recordSchemaFor('hub.admission.revoked'),
  'hub.keys.rotated': recordSchemaFor('hub.keys.rotated'),
  'need.posted': recordSchemaFor('need.posted'),
  'need.updated': recordSchemaFor('need.updated'),
  'need.closed': recordSchemaFor('need.closed'),
  'offer.posted': recordSchemaFor('offer.posted'),
  'offer.updated': recordSchemaFor('offer.updated'),
  'offer.withdrawn': recordSchemaFor('offer.withdrawn'),
  allocation: recordSchemaFor('allocation'),
  'allocation.accepted': recordSchemaFor('allocation.accepted'),
  'allocation.declined': recordSchemaFor('allocation.declined'),
  'custody.handoff': recordSchemaFor('custody.handoff'),
  'custody.receipt': recordSchemaFor('custody.receipt'),
  'custody.delivered': recordSchemaFor('custody.delivered'),
  attestation: recordSchemaFor('attestation'),
  'sealed.erased': recordSchemaFor('sealed.erased'),
  'bundle.posted': recordSchemaFor('bundle.posted'),
  'bundle.updated': recordSchemaFor('bundle.updated'),
  'bundle.funded': recordSchemaFor('bundle.funded'),
} as const;

/** A signed record of any type, as it travels on the wire. */
export const signedRecordSchema = z.discriminatedUnion('type', [
  recordSchemas['hub.inception'],
  recordSchemas['hub.profile'],
  recordSchemas['hub.admitted'],
  recordSchemas['hub.admission.revoked'],
  recordSchemas['hub.keys.rotated'],
  recordSchemas['need.posted'],
  recordSchemas['need.updated'],
  recordSchemas['need.closed'],
  recordSchemas['offer.posted'],
  recordSchemas['offer.updated'],
  recordSchemas['offer.withdrawn'],
  recordSchemas.allocation,
  recordSchemas['allocation.accepted'],
  recordSchemas['allocation.declined'],
  recordSchemas['custody.handoff'],
  recordSchemas['custody.receipt'],
  recordSchemas['custody.delivered'],
  recordSchemas.attestation,
  recordSchemas['sealed.erased'],
  recordSchemas['bundle.posted'],
  recordSchemas['bundle.updated'],
  recordSchemas['bundle.funded'],
]);

export type SignedRecord = z.infer<typeof signedRecordSchema>;
export type RecordOf<T extends RecordType> = Extract<SignedRecord, { type: T }>;
export type Hlc = z.infer<typeof hlcSchema>;
export type Item = z.infer<typeof item>;
export type Unit = z.infer<typeof unit>;
export type Urgency = z.infer<typeof urgency>;
export type HubLevel = z.infer<typeof hubLevel>;
export type BeneficiaryGroup = z.infer<typeof beneficiaryGroup>;
export type DonorIntent = z.infer<typeof donorIntent>;
export type Donor = z.infer<typeof donor>;
export type AttestationKind = BodyOf<'attestation'>['kind'];
