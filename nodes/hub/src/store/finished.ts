import type { ObjectMap, ObjectStore, StoredObject } from '@shuniu/resolve';
import type Database from 'better-sqlite3';

/**
 * The resolver's finished objects out of memory (spec/resolution.md §11,
 * spec/node.md §10.4 `letGoFinished`) in the SQLite store's `finished` table
 * (migration 12): one row per node that left memory, read back when a record
 * or a read needs it. The table holds no state of its own yet: a start
 * replays the records into an empty resolver, so the table is emptied first
 * (`clear`); restarting from the open objects is docs/scale-memory.md step 4.
 */
export class SqliteObjectStore implements ObjectStore {
  private readonly ins: Database.Statement;
  private readonly sel: Database.Statement;
  private readonly del: Database.Statement;
  private readonly putAll: (batch: readonly StoredObject[]) => void;
  private readonly dropAll: (ids: readonly string[]) => void;

  constructor(private readonly db: Database.Database) {
    this.ins = db.prepare('INSERT OR REPLACE INTO finished (id, map, view, leaf, node) VALUES (?, ?, ?, ?, ?)');
    this.sel = db.prepare('SELECT id, map, view, leaf, node FROM finished WHERE id = ?');
    this.del = db.prepare('DELETE FROM finished WHERE id = ?');
    this.putAll = db.transaction((batch: readonly StoredObject[]) => {
      for (const x of batch) this.ins.run(x.id, x.map ?? null, x.view ?? null, x.leaf ?? null, x.node);
    });
    this.dropAll = db.transaction((ids: readonly string[]) => {
      for (const id of ids) this.del.run(id);
    });
  }

  /** Empties the table (a resolver starting from nothing holds none of its rows). */
  clear(): void {
    this.db.prepare('DELETE FROM finished').run();
  }

  put(batch: readonly StoredObject[]): void {
    this.putAll(batch);
  }

  get(id: string): StoredObject | undefined {
    const r = this.sel.get(id) as { id: string; map: string | null; view: string | null; leaf: string | null; node: string } | undefined;
    if (r === undefined) return undefined;
    const x: StoredObject = { id: r.id, node: r.node };
    if (r.map !== null) x.map = r.map as ObjectMap;
    if (r.view !== null) x.view = r.view;
    if (r.leaf !== null) x.leaf = r.leaf;
    return x;
  }

  drop(ids: readonly string[]): void {
    this.dropAll(ids);
  }

  /** One letGo's puts and drops in one transaction (theirs nest in it as savepoints). */
  batch(work: () => void): void {
    this.db.transaction(work)();
  }
}
