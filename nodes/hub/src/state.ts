import * as crypto from 'node:crypto';
import type { Verified } from '@shuniu/protocol';
import { type AdmissionEdge, type ResolvedState, Resolver } from '@shuniu/resolve';

/**
 * The node's view of resolved state, implemented by the reference resolver
 * (@shuniu/resolve). Kept as an interface so a node can plug in another
 * conforming resolver (spec/resolution.md) without touching ingest.
 */
export interface StateEngine {
  apply(v: Verified): void;
  stateHash(): string;
  /** JSON snapshot persisted with a checkpoint. */
  toJSON(): unknown;
  /** Resolved collections by name (needs, offers, …); undefined when unknown. */
  collection(name: string): unknown[] | undefined;
  /** The whole resolved state (spec/resolution.md), e.g. for the matching engine. */
  resolved(): ResolvedState;
  /** The admissions that count (spec/resolution.md §1); the node's trust is admittedHubs(roots, these, blocked). */
  admissionEdges(): AdmissionEdge[];
}

export type StateFactory = (roots: string[], snapshot?: unknown) => StateEngine;

/** The reference resolver behind the node's state routes; its snapshot is what checkpoints store. */
export class ResolverState implements StateEngine {
  constructor(readonly resolver: Resolver) {}
  apply(v: Verified): void {
    this.resolver.apply(v);
  }
  stateHash(): string {
    return this.resolver.stateHash();
  }
  toJSON(): unknown {
    return this.resolver.toJSON();
  }
  resolved(): ResolvedState {
    return this.resolver.state();
  }
  admissionEdges(): AdmissionEdge[] {
    return this.resolver.admissionEdges();
  }
  collection(name: string): unknown[] | undefined {
    const r = this.resolver;
    switch (name) {
      case 'needs':
      case 'offers':
      case 'shipments':
      case 'conflicts':
        return Object.values(r.collection(name));
      case 'allocations': {
        // Filters (region, urgency, group) apply through the need allocated to.
        const needs = r.collection('needs');
        return Object.values(r.collection('allocations')).map((a) => {
          const n = needs[a.need];
          return n ? { ...a, region: n.region, urgency: n.urgency, beneficiaries: n.beneficiaries } : a;
        });
      }
      case 'hubs':
        return Object.values(r.collection('hubs')).map((h) => ({ ...h, region: h.region ?? h.profile?.region }));
      default:
        return undefined;
    }
  }
}

/**
 * Node's native SHA-256 for the state hash, straight from the text
 * (crypto.hash, Node ≥ 20.12; createHash before): same digests as the
 * resolver's pure one, several times faster.
 */
const sha256Text: (text: string) => string =
  typeof crypto.hash === 'function' ? (t) => crypto.hash('sha256', t, 'base64url') : (t) => crypto.createHash('sha256').update(t).digest('base64url');

export const defaultStateFactory: StateFactory = (roots, snapshot) =>
  new ResolverState(snapshot === undefined ? new Resolver({ roots, sha256Text }) : Resolver.fromJSON(snapshot, { roots, sha256Text }));
