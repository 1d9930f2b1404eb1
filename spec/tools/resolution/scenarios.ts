/**
 * One named scenario per resolution rule (spec/resolution.md). The vector
 * generator (spec/tools/gen-resolution-vectors.ts) signs them into
 * spec/vectors/resolution/<name>.json; packages/resolve's tests
 * check every `expect` entry (a dotted path into the resolved state and its
 * value) and the full expected state.
 */
import { digest } from '@shuniu/protocol';
import { DAY, iso, T0, type World } from './world.js';

export interface Scenario {
  name: string;
  comment: string;
  tags: string[];
  build(w: World): { roots: string[]; expect: Record<string, unknown> };
}

/** Standard cast: Hubei province hub (root), Xiaogan city hub, Xiaonan county hub, a foundation. */
function cast(w: World) {
  const hubei = w.hub('hubei');
  const xiaogan = w.hub('xiaogan');
  const xiaonan = w.hub('xiaonan');
  const found = w.hub('one-foundation');
  w.profile(hubei, 'province', '420000', '湖北枢纽');
  w.admit(hubei, xiaogan, 'city', '420900');
  w.admit(hubei, found, 'org', '420000');
  w.admit(xiaogan, xiaonan, 'county', '420902');
  return { hubei, xiaogan, xiaonan, found };
}

export const scenarios: Scenario[] = [
  {
    name: 'admission',
    comment:
      'Roots are admitted by definition; Xiaonan is admitted through Xiaogan (admitted by Hubei). A hub nobody admitted has its records held, and they apply once an admission arrives.',
    tags: ['admission', 'held'],
    build(w) {
      const { hubei, xiaogan, xiaonan } = cast(w);
      const stranger = w.hub('stranger');
      const n1 = w.need(stranger, { requester: { name: '某社区', kind: 'community' } });
      const late = w.hub('late-county');
      const n2 = w.need(late, { requester: { name: '应城市人民医院', kind: 'hospital' } });
      w.admit(xiaogan, late, 'county', '420981');
      return {
        roots: [hubei.id],
        expect: {
          [`hubs.${xiaonan.id}.admitted`]: true,
          [`hubs.${xiaonan.id}.admissionChain`]: [xiaogan.id, hubei.id],
          [`hubs.${xiaonan.id}.level`]: 'county',
          [`hubs.${stranger.id}.status`]: 'suspended',
          [`held.${n1}`]: stranger.id,
          [`needs.${n1}`]: undefined,
          [`needs.${n2}.status`]: 'open',
          [`hubs.${late.id}.status`]: 'active',
        },
      };
    },
  },
  {
    name: 'authority',
    comment:
      'Only the author changes its object: an allocation by a hub that is not the offer author, an acceptance by a hub that is not the need author, a need update by another hub and a receipt by a hub that is not the receiver each become an unauthorised conflict and change nothing.',
    tags: ['authority', 'unauthorised'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const need = w.need(xiaonan);
      const offer = w.offer(found);
      const badAlloc = w.allocate(xiaogan, offer, need, 1000);
      const alloc = w.allocate(found, offer, need, 1000);
      const badAccept = w.sign(xiaogan, 'allocation.accepted', { allocation: alloc });
      const badUpdate = w.sign(xiaogan, 'need.updated', { need, quantity: 1 });
      const h = w.handoff(found, xiaonan, [alloc], 20);
      const badReceipt = w.receipt(xiaogan, h, 20);
      return {
        roots: [hubei.id],
        expect: {
          [`allocations.${badAlloc}`]: undefined,
          [`conflicts.${badAlloc}/unauthorised.rule`]: 'unauthorised',
          [`allocations.${alloc}.status`]: 'proposed',
          [`conflicts.${badAccept}/unauthorised.detail.expected`]: xiaonan.id,
          [`conflicts.${badUpdate}/unauthorised.rule`]: 'unauthorised',
          [`needs.${need}.quantity`]: 5000,
          [`conflicts.${badReceipt}/unauthorised.rule`]: 'unauthorised',
          [`shipments.${h}.status`]: 'in_transit',
          [`needs.${need}.inTransit`]: 1000,
        },
      };
    },
  },
  {
    name: 'over-allocation',
    comment:
      'An offer of 2,000 pieces gets three allocations of 1,000: by hlc the first two stand and the third is surplus, unless the need author accepts the third, which then goes first (accepted before hlc) and pushes the second out. Surplus stays visible.',
    tags: ['over_allocation', 'surplus', 'accept'],
    build(w) {
      const { hubei, xiaonan, found } = cast(w);
      const offer = w.offer(found, { quantity: 40 });
      const n1 = w.need(xiaonan, { requester: { name: 'A 医院', kind: 'hospital' } });
      const n2 = w.need(xiaonan, { requester: { name: 'B 医院', kind: 'hospital' } });
      const n3 = w.need(xiaonan, { requester: { name: 'C 医院', kind: 'hospital' } });
      const a1 = w.allocate(found, offer, n1, 1000);
      const a2 = w.allocate(found, offer, n2, 1000);
      const a3 = w.allocate(found, offer, n3, 1000);
      w.sign(xiaonan, 'allocation.accepted', { allocation: a3 });
      return {
        roots: [hubei.id],
        expect: {
          [`allocations.${a1}.status`]: 'proposed',
          [`allocations.${a3}.status`]: 'accepted',
          [`allocations.${a2}.status`]: 'surplus',
          [`allocations.${a2}.surplusOf`]: 'offer',
          [`offers.${offer}.allocated`]: 2000,
          [`offers.${offer}.status`]: 'allocated',
          [`offers.${offer}.allocations`]: [a3, a1],
          [`conflicts.${offer}/over_allocation.detail.requested`]: 3000,
          [`needs.${n2}.status`]: 'open',
        },
      };
    },
  },
  {
    name: 'over-fulfilment',
    comment:
      'A need of 5,000 pieces gets 3,000 from the foundation and 3,000 from Xiaogan: the later one (by hlc) is surplus for the need. When the need author declines the first, the second stands.',
    tags: ['over_fulfilment', 'decline'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const need = w.need(xiaonan);
      const o1 = w.offer(found);
      const o2 = w.offer(xiaogan, { donor: { name: '孝感企业', kind: 'company' } });
      const a1 = w.allocate(found, o1, need, 3000);
      const a2 = w.allocate(xiaogan, o2, need, 3000);
      const dec = w.sign(xiaonan, 'allocation.declined', { allocation: a1, reason: '已由其他渠道解决' });
      const a3 = w.allocate(found, o1, need, 2500);
      return {
        roots: [hubei.id],
        expect: {
          [`allocations.${a1}.status`]: 'declined',
          [`allocations.${a1}.decision`]: dec,
          [`allocations.${a2}.status`]: 'proposed',
          [`allocations.${a3}.status`]: 'surplus',
          [`allocations.${a3}.surplusOf`]: 'need',
          [`needs.${need}.allocated`]: 3000,
          [`needs.${need}.status`]: 'partly_allocated',
          [`conflicts.${need}/over_fulfilment.detail.surplus`]: [a3],
        },
      };
    },
  },
  {
    name: 'duplicate-need',
    comment:
      "Xiaonan and Xiaogan post needs for N95 masks for the same hospital with neededBy on days 5 (Xiaonan), 8 (Xiaogan) and 14 (Xiaonan): consecutive neededBy at most 7 days apart, so one cluster and ONE duplicate_need conflict naming all three (days 5 and 14 are 9 days apart but chained through day 8); all needs kept. Xiaogan's needs on days 25 and 30 form a second cluster of one hub only: no conflict.",
    tags: ['duplicate_need'],
    build(w) {
      const { hubei, xiaogan, xiaonan } = cast(w);
      const n1 = w.need(xiaonan, { neededBy: iso(T0 + 5 * DAY) });
      const n2 = w.need(xiaogan, { neededBy: iso(T0 + 8 * DAY) });
      const n3 = w.need(xiaonan, { neededBy: iso(T0 + 14 * DAY) });
      const n4 = w.need(xiaogan, { neededBy: iso(T0 + 25 * DAY) });
      const n5 = w.need(xiaogan, { neededBy: iso(T0 + 30 * DAY) });
      const cluster = [n1, n2, n3].sort();
      const lone = [n4, n5].sort();
      const cid = `${cluster[0]}/duplicate_need`;
      return {
        roots: [hubei.id],
        expect: {
          [`conflicts.${cid}.rule`]: 'duplicate_need',
          [`conflicts.${cid}.records`]: cluster,
          [`conflicts.${cid}.hubs`]: [xiaogan.id, xiaonan.id].sort(),
          [`conflicts.${cid}.detail.needs`]: 3,
          [`conflicts.${lone[0]}/duplicate_need`]: undefined,
          [`needs.${n1}.status`]: 'open',
          [`needs.${n2}.status`]: 'open',
          [`needs.${n3}.status`]: 'open',
          [`needs.${n4}.status`]: 'open',
          [`needs.${n5}.status`]: 'open',
        },
      };
    },
  },
  {
    name: 'custody-discrepancy',
    comment:
      'The foundation ships 20 boxes; Xiaonan receives 17 accepted, 2 rejected (damaged) and 1 missing: received with discrepancy, both figures kept. A later receipt correction (higher seq) replaces it. A receipt whose lines do not add up to what was shipped is a receipt_mismatch conflict.',
    tags: ['custody', 'discrepancy', 'correction', 'receipt_mismatch'],
    build(w) {
      const { hubei, xiaonan, found } = cast(w);
      const need = w.need(xiaonan);
      const offer = w.offer(found);
      const alloc = w.allocate(found, offer, need, 2000);
      const h1 = w.handoff(found, xiaonan, [alloc], 40);
      const r1 = w.receipt(xiaonan, h1, 30, 5, 5);
      const r2 = w.receipt(xiaonan, h1, 34, 5, 1, { corrects: r1 });
      const h2 = w.handoff(found, xiaonan, [alloc], 10);
      const r3 = w.receipt(xiaonan, h2, 8);
      return {
        roots: [hubei.id],
        expect: {
          [`shipments.${h1}.status`]: 'received_with_discrepancy',
          [`shipments.${h1}.receipt`]: r2,
          [`shipments.${h1}.shipped`]: 2000,
          [`shipments.${h1}.accepted`]: 1700,
          [`shipments.${h1}.rejected`]: 250,
          [`shipments.${h1}.missing`]: 50,
          [`shipments.${h2}.lines.0.unaccounted`]: 100,
          [`conflicts.${h2}/receipt_mismatch.records`]: [h2, r3].sort(),
          [`needs.${need}.received`]: 2100,
        },
      };
    },
  },
  {
    name: 'custody-either-order',
    comment:
      'A receipt is valid whichever of handoff and receipt arrives first; a handoff correction (corrects) replaces the lines of the shipment, and a receipt naming the first version still counts against the current lines.',
    tags: ['custody', 'order', 'correction'],
    build(w) {
      const { hubei, xiaonan, found } = cast(w);
      const need = w.need(xiaonan);
      const offer = w.offer(found);
      const alloc = w.allocate(found, offer, need, 2000);
      const h1 = w.handoff(found, xiaonan, [alloc], 30);
      const h1b = w.handoff(found, xiaonan, [alloc], 40, { corrects: h1, shipment: 'SH-fixed' });
      const r = w.receipt(xiaonan, h1, 40);
      return {
        roots: [hubei.id],
        expect: {
          [`shipments.${h1}.handoff`]: h1b,
          [`shipments.${h1}.versions`]: [h1, h1b].sort(),
          [`shipments.${h1}.status`]: 'received',
          [`shipments.${h1}.receipt`]: r,
          [`shipments.${h1b}`]: undefined,
          [`needs.${need}.received`]: 2000,
          [`needs.${need}.inTransit`]: 0,
        },
      };
    },
  },
  {
    name: 'delivered-beyond-received',
    comment: 'Xiaonan received 1,000 pieces but records delivering 1,500 to the hospital: a delivered_beyond_received conflict with both figures.',
    tags: ['custody', 'delivered_beyond_received'],
    build(w) {
      const { hubei, xiaonan, found } = cast(w);
      const need = w.need(xiaonan);
      const offer = w.offer(found);
      const alloc = w.allocate(found, offer, need, 1000);
      const h = w.handoff(found, xiaonan, [alloc], 20);
      w.receipt(xiaonan, h, 20);
      const d1 = w.delivered(xiaonan, need, [h], 10);
      const d2 = w.delivered(xiaonan, need, [h], 20);
      return {
        roots: [hubei.id],
        expect: {
          [`needs.${need}.delivered`]: 1500,
          [`needs.${need}.status`]: 'partly_delivered',
          [`conflicts.${xiaonan.id}/delivered_beyond_received/PPE.MASK.N95.detail.received`]: 1000,
          [`conflicts.${xiaonan.id}/delivered_beyond_received/PPE.MASK.N95.records`]: [d1, d2].sort(),
        },
      };
    },
  },
  {
    name: 'overdue-late',
    comment:
      'A shipment expected on day 2 with no receipt is overdue once any record carries a later hlc (never the local clock). A shipment received after its need’s neededBy is late. A need whose neededBy passed with nothing allocated is expired.',
    tags: ['custody', 'overdue', 'late', 'expired'],
    build(w) {
      const { hubei, xiaonan, found } = cast(w);
      const need = w.need(xiaonan, { neededBy: iso(T0 + DAY / 2) });
      const lonely = w.need(xiaonan, { neededBy: iso(T0 + DAY / 2), requester: { name: '孤立社区', kind: 'community' } });
      const offer = w.offer(found);
      const alloc = w.allocate(found, offer, need, 1000);
      const h1 = w.handoff(found, xiaonan, [alloc], 10, { expectedArrival: iso(T0 + DAY / 4) });
      const h2 = w.handoff(found, xiaonan, [alloc], 10, { expectedArrival: iso(T0 + DAY / 4) });
      w.t = T0 + DAY; // a day passes
      w.receipt(xiaonan, h2, 10);
      return {
        roots: [hubei.id],
        expect: {
          [`shipments.${h1}.status`]: 'overdue',
          [`shipments.${h2}.status`]: 'received',
          [`shipments.${h2}.late`]: true,
          [`needs.${lonely}.status`]: 'expired',
          [`needs.${need}.status`]: 'expired',
          [`needs.${need}.received`]: 500,
          [`needs.${need}.inTransit`]: 500,
        },
      };
    },
  },
  {
    name: 'double-handoff',
    comment:
      'Xiaogan hands the same allocation of 1,000 pieces to Xiaonan and to another county, 1,000 each: double_handoff, not settled by timestamp. It also ships one lot it received 500 pieces of to two receivers, 400 each.',
    tags: ['custody', 'double_handoff', 'lot'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const other = w.hub('yingcheng');
      w.admit(xiaogan, other, 'county', '420981');
      const need = w.need(xiaonan);
      const offer = w.offer(found);
      const alloc = w.allocate(found, offer, need, 1000);
      const hA = w.handoff(xiaogan, xiaonan, [alloc], 20);
      const hB = w.handoff(xiaogan, other, [alloc], 20);
      const lotLine = { item: { code: 'MED.GLOVE', name: '医用手套' }, quantity: 500, unit: { name: 'pair', base: 'pair', size: 1 }, lot: 'L-2020-01' };
      const inbound = w.handoff(found, xiaogan, [], 1, { lines: [lotLine] });
      w.receipt(xiaogan, inbound, 500);
      const l1 = w.handoff(xiaogan, xiaonan, [], 1, { lines: [{ ...lotLine, quantity: 400 }] });
      const l2 = w.handoff(xiaogan, other, [], 1, { lines: [{ ...lotLine, quantity: 400 }] });
      return {
        roots: [hubei.id],
        expect: {
          [`conflicts.${alloc}/double_handoff/${xiaogan.id}.records`]: [alloc, hA, hB].sort(),
          [`conflicts.${alloc}/double_handoff/${xiaogan.id}.detail.handedOff`]: 2000,
          [`conflicts.${xiaogan.id}/double_handoff/${digest(`${xiaogan.id}|MED.GLOVE|L-2020-01`)}.records`]: [inbound, l1, l2].sort(),
        },
      };
    },
  },
  {
    name: 'fork-recovery',
    comment:
      'Xiaonan’s signing key is stolen: the thief signs a second record at seq 2, where the owner signed one too. The hub is forked with both ids as proof and its records from seq 2 on stop counting. A hub.keys.rotated signed with the recovery key, at seq 2 branching off seq 1, restores it: seq 1 and the records that continue the recovery (seq 3) count; neither record at seq 2, the thief’s or the owner’s, does.',
    tags: ['fork', 'recovery'],
    build(w) {
      const { hubei, xiaonan } = cast(w);
      const good1 = w.need(xiaonan, { requester: { name: '甲医院', kind: 'hospital' } }); // seq 1
      const head = { ...xiaonan.author.head };
      const thief = w.thief(xiaonan);
      const stolen = w.need(thief, { requester: { name: '假医院', kind: 'hospital' }, quantity: 9999 }); // seq 2'
      const good2 = w.need(xiaonan, { requester: { name: '乙医院', kind: 'hospital' } }); // seq 2
      const rec = w.recover(xiaonan, head); // seq 2'' branching off seq 1
      const good3 = w.need(xiaonan, { requester: { name: '丙医院', kind: 'hospital' } }); // seq 3
      return {
        roots: [hubei.id],
        expect: {
          [`hubs.${xiaonan.id}.status`]: 'active',
          [`hubs.${xiaonan.id}.recovery`]: rec,
          [`hubs.${xiaonan.id}.forks.0.seq`]: 2,
          [`needs.${good1}.status`]: 'open',
          [`needs.${stolen}`]: undefined,
          [`needs.${good2}`]: undefined,
          [`needs.${good3}.status`]: 'open',
          [`conflicts.${xiaonan.id}/fork/2.rule`]: 'fork',
        },
      };
    },
  },
  {
    name: 'fork-unrecovered',
    comment: 'Two records at one seq and no recovery: the hub is forked, records from the fork seq on stop counting, earlier ones keep counting.',
    tags: ['fork'],
    build(w) {
      const { hubei, xiaonan } = cast(w);
      const good1 = w.need(xiaonan, { requester: { name: '甲医院', kind: 'hospital' } });
      const thief = w.thief(xiaonan);
      const a = w.need(thief, { requester: { name: '假医院', kind: 'hospital' } });
      const b = w.need(xiaonan, { requester: { name: '乙医院', kind: 'hospital' } });
      return {
        roots: [hubei.id],
        expect: {
          [`hubs.${xiaonan.id}.status`]: 'forked',
          [`hubs.${xiaonan.id}.forks.0.ids`]: [a, b].sort(),
          [`needs.${good1}.status`]: 'open',
          [`needs.${a}`]: undefined,
          [`needs.${b}`]: undefined,
        },
      };
    },
  },
  {
    name: 'ordering',
    comment:
      'One author’s changes to one object go by seq: two need.updated records apply in seq order whatever the arrival order, and need.closed closes it. Competing allocations from different hubs go by hlc, then record id.',
    tags: ['ordering', 'update', 'close'],
    build(w) {
      const { hubei, xiaonan } = cast(w);
      const need = w.need(xiaonan);
      w.sign(xiaonan, 'need.updated', { need, quantity: 80, urgency: 'high' });
      w.sign(xiaonan, 'need.updated', { need, quantity: 60 });
      const other = w.need(xiaonan, { requester: { name: '已撤销', kind: 'community' } });
      const close = w.sign(xiaonan, 'need.closed', { need: other, reason: 'cancelled' });
      return {
        roots: [hubei.id],
        expect: {
          [`needs.${need}.quantity`]: 3000,
          [`needs.${need}.urgency`]: 'high',
          [`needs.${other}.status`]: 'cancelled',
          [`needs.${other}.closed.record`]: close,
        },
      };
    },
  },
  {
    name: 'admission-scope',
    comment:
      'An admission counts only within its admitter’s scope: a level below its own and a region inside its region prefix (420900 → 4209). A national hub only a root admits (any region: its seat); a national admitter admits any lower level anywhere. Out of scope: the foundation (org) admitting a national hub for 110000, whose need therefore stays held; Xiaonan (county) admitting a province; Xiaogan (city 420900) admitting a county of Wuhan (420102). Each is an admission_scope conflict and no edge.',
    tags: ['admission', 'scope'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const beijing = w.hub('beijing-national');
      const byOrg = w.admit(found, beijing, 'national', '110000');
      const beijingNeed = w.need(beijing, { region: '110101', requester: { name: '北京某医院', kind: 'hospital' } });
      const hunan = w.hub('hunan-province');
      const byCounty = w.admit(xiaonan, hunan, 'province', '430000');
      const wuhan = w.hub('wuhan-jiangan');
      const outside = w.admit(xiaogan, wuhan, 'county', '420102');
      const wuhanNeed = w.need(wuhan, { region: '420102', requester: { name: '江岸区某社区', kind: 'community' } });
      // In scope: a root admits a national foundation seated in Beijing, which admits a province elsewhere.
      const china = w.hub('china-foundation');
      const byRoot = w.admit(hubei, china, 'national', '110000');
      const hunan2 = w.hub('hunan-network');
      w.admit(china, hunan2, 'province', '430000');
      const hunanNeed = w.need(hunan2, { region: '430102', requester: { name: '长沙某医院', kind: 'hospital' } });
      return {
        roots: [hubei.id],
        expect: {
          [`conflicts.${byOrg}/admission_scope.rule`]: 'admission_scope',
          [`conflicts.${byOrg}/admission_scope.hubs`]: [found.id],
          [`conflicts.${byOrg}/admission_scope.records`]: [byOrg],
          [`conflicts.${byOrg}/admission_scope.detail`]: {
            admitterLevel: 'org',
            admitterRegion: '420000',
            child: beijing.id,
            level: 'national',
            region: '110000',
          },
          [`hubs.${beijing.id}.status`]: 'suspended',
          [`needs.${beijingNeed}`]: undefined,
          [`held.${beijingNeed}`]: beijing.id,
          [`conflicts.${byCounty}/admission_scope.detail`]: {
            admitterLevel: 'county',
            admitterRegion: '420902',
            child: hunan.id,
            level: 'province',
            region: '430000',
          },
          [`hubs.${hunan.id}.status`]: 'suspended',
          [`conflicts.${outside}/admission_scope.detail`]: {
            admitterLevel: 'city',
            admitterRegion: '420900',
            child: wuhan.id,
            level: 'county',
            region: '420102',
          },
          [`hubs.${wuhan.id}.admitted`]: false,
          [`needs.${wuhanNeed}`]: undefined,
          [`hubs.${china.id}.admission`]: byRoot,
          [`hubs.${china.id}.level`]: 'national',
          [`hubs.${hunan2.id}.admissionChain`]: [china.id, hubei.id],
          [`needs.${hunanNeed}.status`]: 'open',
          [`hubs.${xiaonan.id}.status`]: 'active',
        },
      };
    },
  },
  {
    name: 'admission-revoked',
    comment:
      'An admitter withdraws its own admission with hub.admission.revoked; per admitter and child the record with the highest seq decides. Xiaogan revokes Xiaonan: Xiaonan is suspended, its need leaves the state (held), and so does the hospital hub Xiaonan admitted. Hubei revoking Xiaonan changes nothing (Hubei never admitted it). Xiaogan revokes Yingcheng and admits it again: it is back, through the new admission.',
    tags: ['admission', 'revocation', 'held'],
    build(w) {
      const { hubei, xiaogan, xiaonan } = cast(w);
      const hospital = w.hub('xiaonan-hospital');
      w.admit(xiaonan, hospital, 'org', '420902');
      const hospitalNeed = w.need(hospital, { requester: { name: '孝南区人民医院', kind: 'hospital' } });
      const xiaonanNeed = w.need(xiaonan, { requester: { name: '书院街道某社区', kind: 'community' } });
      const yingcheng = w.hub('yingcheng');
      w.admit(xiaogan, yingcheng, 'county', '420981');
      const yingchengNeed = w.need(yingcheng, { region: '420981', requester: { name: '应城市人民医院', kind: 'hospital' } });
      const revoked = w.sign(xiaogan, 'hub.admission.revoked', { child: xiaonan.id, reason: '账号被盗' });
      w.sign(hubei, 'hub.admission.revoked', { child: xiaonan.id });
      w.sign(xiaogan, 'hub.admission.revoked', { child: yingcheng.id });
      const again = w.admit(xiaogan, yingcheng, 'county', '420981');
      return {
        roots: [hubei.id],
        expect: {
          [`hubs.${xiaonan.id}.status`]: 'suspended',
          [`hubs.${xiaonan.id}.admitted`]: false,
          [`hubs.${xiaonan.id}.admissionChain`]: [],
          [`needs.${xiaonanNeed}`]: undefined,
          [`held.${xiaonanNeed}`]: xiaonan.id,
          [`held.${revoked}`]: undefined,
          [`hubs.${hospital.id}.status`]: 'suspended',
          [`needs.${hospitalNeed}`]: undefined,
          [`held.${hospitalNeed}`]: hospital.id,
          [`hubs.${yingcheng.id}.status`]: 'active',
          [`hubs.${yingcheng.id}.admission`]: again,
          [`needs.${yingchengNeed}.status`]: 'open',
        },
      };
    },
  },
  {
    name: 'recovery-vouched',
    comment:
      'A thief who copied a data directory holding the recovery seed too (before it moved offline) recovers as well. Xiaonan: the owner recovers first, the thief later (a greater hlc, which alone would win); Xiaogan, which admitted Xiaonan, vouches for the owner’s recovery within 72 hours, so the owner’s branch counts and the thief’s does not. Yingcheng: the owner’s recovery is vouched only 73 hours later by Xiaogan and within the window by the foundation, which is not on Yingcheng’s admission chain: neither counts, and the later recovery (the thief’s) wins.',
    tags: ['recovery', 'vouch', 'fork'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const yingcheng = w.hub('yingcheng');
      w.admit(xiaogan, yingcheng, 'county', '420981');

      const good1 = w.need(xiaonan, { requester: { name: '甲医院', kind: 'hospital' } });
      const head = { ...xiaonan.author.head };
      const thief = w.thief(xiaonan);
      const stolen = w.need(thief, { requester: { name: '假医院', kind: 'hospital' }, quantity: 9999 });
      const owner = w.recover(xiaonan, head);
      const good2 = w.need(xiaonan, { requester: { name: '乙医院', kind: 'hospital' } });
      const thiefRec = w.recover(thief, head, 9);
      const thiefNeed = w.need(thief, { requester: { name: '假医院', kind: 'hospital' }, quantity: 8888 });
      w.sign(xiaogan, 'attestation', { subject: owner, kind: 'recovery_vouched', result: 'pass', note: '已电话核实' });

      const yHead = { ...yingcheng.author.head };
      const yThief = w.thief(yingcheng);
      const yOwner = w.recover(yingcheng, yHead);
      const yOwnerNeed = w.need(yingcheng, { region: '420981', requester: { name: '应城市人民医院', kind: 'hospital' } });
      const yThiefRec = w.recover(yThief, yHead, 9);
      const yThiefNeed = w.need(yThief, { region: '420981', requester: { name: '假医院', kind: 'hospital' } });
      w.sign(found, 'attestation', { subject: yOwner, kind: 'recovery_vouched', result: 'pass' });
      w.t += 73 * 3600 * 1000;
      w.sign(xiaogan, 'attestation', { subject: yOwner, kind: 'recovery_vouched', result: 'pass' });
      return {
        roots: [hubei.id],
        expect: {
          [`hubs.${xiaonan.id}.status`]: 'active',
          [`hubs.${xiaonan.id}.recovery`]: owner,
          [`needs.${good1}.status`]: 'open',
          [`needs.${good2}.status`]: 'open',
          [`needs.${stolen}`]: undefined,
          [`needs.${thiefNeed}`]: undefined,
          [`hubs.${xiaonan.id}.keys.record`]: owner,
          [`conflicts.${xiaonan.id}/fork/2.records`]: [owner, stolen, thiefRec].sort(),
          [`conflicts.${xiaonan.id}/fork/2.detail.recovered`]: true,
          [`hubs.${yingcheng.id}.recovery`]: yThiefRec,
          [`needs.${yOwnerNeed}`]: undefined,
          [`needs.${yThiefNeed}.status`]: 'open',
          [`hubs.${xiaogan.id}.status`]: 'active',
          [`pending.${owner}`]: undefined,
        },
      };
    },
  },
  {
    name: 'pending',
    comment:
      "pending lists the ids that are not objects and the counting records naming them (spec/resolution.md §7): an update of a need whose hub is not admitted (the need is held), an acceptance of an allocation that does not count (not by the offer's author), a receipt of a handoff that never arrived, a delivery to a need that does not exist. A delivery_confirmed attestation naming a delivery, a delivery's handoffs and its corrects naming a missing delivery put nothing in pending.",
    tags: ['pending', 'authority', 'custody'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const stranger = w.hub('stranger');
      const strangerNeed = w.need(stranger, { requester: { name: '某社区', kind: 'community' } });
      // Xiaogan updates the stranger's held need: the need is not an object, the update waits.
      const upd = w.sign(xiaogan, 'need.updated', { need: strangerNeed, quantity: 10 });
      // An allocation of the foundation's offer signed by Xiaogan does not count as an allocation; Xiaonan's acceptance of it waits.
      const need = w.need(xiaonan);
      const offer = w.offer(found);
      const bad = w.allocate(xiaogan, offer, need, 1000);
      const acc = w.sign(xiaonan, 'allocation.accepted', { allocation: bad });
      // A receipt of a handoff nobody has seen, and a delivery to a need nobody posted.
      const ghostHandoff = digest({ ghost: 'handoff' });
      const ghostNeed = digest({ ghost: 'need' });
      const rec = w.receipt(xiaonan, ghostHandoff, 10);
      const del = w.delivered(xiaonan, ghostNeed, [ghostHandoff], 5);
      // Named, but never pending: an attestation's subject and a delivery's corrects.
      w.sign(hubei, 'attestation', { subject: del, kind: 'delivery_confirmed', result: 'pass' });
      const missing = digest({ ghost: 'delivery' });
      const real = w.delivered(xiaonan, need, [ghostHandoff], 1, { corrects: missing });
      return {
        roots: [hubei.id],
        expect: {
          [`pending.${strangerNeed}`]: [upd],
          [`pending.${bad}`]: [acc],
          [`pending.${ghostHandoff}`]: [rec],
          [`pending.${ghostNeed}`]: [del],
          [`pending.${del}`]: undefined,
          [`pending.${missing}`]: undefined,
          [`conflicts.${bad}/unauthorised.detail.expected`]: found.id,
          [`needs.${need}.deliveries`]: [real],
        },
      };
    },
  },
  {
    name: 'bundles',
    comment:
      "A bundle (spec/resolution.md §7.2): Xiaogan groups five needs of Xiaonan's community groups and one id nobody posted into one project, as Wuhan NPI did for community chat groups; its progress is derived from the needs: one allocated, one delivered, one in transit, one cancelled, one added later and open, the ghost missing (then removed). The foundation pledges 3,000,000 fen and then 5,000,000 (its highest seq is in force), Hubei 1,000,000: 6,000,000 of a 8,000,000 target, partly_funded. Xiaonan's update of Xiaogan's bundle is unauthorised and changes nothing.",
    tags: ['bundles', 'authority', 'unauthorised'],
    build(w) {
      const { hubei, xiaogan, xiaonan, found } = cast(w);
      const group = (name: string) => ({ requester: { name, kind: 'community' as const } });
      const allocated = w.need(xiaonan, group('孝南区书院街道第一社区团购群'));
      const delivered = w.need(xiaonan, group('孝南区书院街道第二社区团购群'));
      const inTransit = w.need(xiaonan, group('孝南区新华街道团购群'));
      const cancelled = w.need(xiaonan, group('孝南区广场街道团购群'));
      const later = w.need(xiaonan, {
        ...group('孝南区车站街道团购群'),
        item: { code: 'PPE.GOWN.SURGICAL', name: '手术衣' },
        quantity: 20,
        unit: { name: '件', base: '件', size: 1 },
      });
      const ghost = digest({ ghost: 'need' });
      const bundle = w.sign(xiaogan, 'bundle.posted', {
        title: '孝南区社区团购群防护物资',
        region: '420902',
        needs: [allocated, delivered, inTransit, cancelled, ghost],
        description: '五个社区群的口罩需求，整体资助',
        targetFen: 8_000_000,
      });
      const offer = w.offer(found);
      w.allocate(found, offer, allocated, 5000);
      const a2 = w.allocate(found, offer, delivered, 5000);
      const a3 = w.allocate(found, offer, inTransit, 2500);
      const h2 = w.handoff(found, xiaonan, [a2], 100);
      w.receipt(xiaonan, h2, 100);
      w.delivered(xiaonan, delivered, [h2], 100);
      w.handoff(found, xiaonan, [a3], 50);
      w.sign(xiaonan, 'need.closed', { need: cancelled, reason: 'cancelled' });
      const upd = w.sign(xiaogan, 'bundle.updated', { bundle, add: [later], remove: [ghost], title: '孝南区社区团购群防护物资（第一批）' });
      const bad = w.sign(xiaonan, 'bundle.updated', { bundle, remove: [allocated, delivered], close: 'cancelled' });
      w.sign(found, 'bundle.funded', { bundle, amountFen: 3_000_000 });
      const pledge = w.sign(found, 'bundle.funded', { bundle, amountFen: 5_000_000, note: '整体资助' });
      const hubeiPledge = w.sign(hubei, 'bundle.funded', { bundle, amountFen: 1_000_000 });
      const [first, second] = [found.id, hubei.id].sort();
      const byHub: Record<string, { amountFen: number; hub: string; record: string }> = {
        [found.id]: { amountFen: 5_000_000, hub: found.id, record: pledge },
        [hubei.id]: { amountFen: 1_000_000, hub: hubei.id, record: hubeiPledge },
      };
      return {
        roots: [hubei.id],
        expect: {
          [`bundles.${bundle}.hub`]: xiaogan.id,
          [`bundles.${bundle}.title`]: '孝南区社区团购群防护物资（第一批）',
          [`bundles.${bundle}.needs`]: [allocated, delivered, inTransit, cancelled, later].sort(),
          [`bundles.${bundle}.updates`]: [upd],
          [`bundles.${bundle}.status`]: 'partly_funded',
          [`bundles.${bundle}.fundedFen`]: 6_000_000,
          [`bundles.${bundle}.funding`]: [byHub[first as string], byHub[second as string]],
          [`bundles.${bundle}.progress.needs`]: 5,
          [`bundles.${bundle}.progress.missing`]: 0,
          [`bundles.${bundle}.progress.open`]: 1,
          [`bundles.${bundle}.progress.allocated`]: 1,
          [`bundles.${bundle}.progress.inTransit`]: 1,
          [`bundles.${bundle}.progress.delivered`]: 1,
          [`bundles.${bundle}.progress.closed`]: 1,
          [`bundles.${bundle}.progress.items`]: [
            { allocated: 0, base: '件', code: 'PPE.GOWN.SURGICAL', delivered: 0, inTransit: 0, requested: 20 },
            { allocated: 12_500, base: 'piece', code: 'PPE.MASK.N95', delivered: 5000, inTransit: 2500, requested: 15_000 },
          ],
          [`conflicts.${bad}/unauthorised.detail.expected`]: xiaogan.id,
          [`bundles.${bundle}.closed`]: undefined,
          [`pending.${ghost}`]: undefined,
        },
      };
    },
  },
];
