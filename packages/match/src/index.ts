export { catalogueFromItems, RELIEF_CATALOGUE, type SubstituteHint, substituteHints } from './catalogue.js';
export { allocationBody, type Planned, violations } from './check.js';
export { Plan, plan, propose } from './propose.js';
export { explain, pct, REASON_CODES, reasonMessage, relation } from './reasons.js';
export { DEFAULT_TRANSIT, needIsOpen, offerIsOpen, URGENCY_RANK } from './rules.js';
export type * from './types.js';
export { type Claim, type Division, waterfill } from './waterfill.js';
