// The part of the `libpq` package's API (native bindings to libpq) that the PostgreSQL store uses.
declare module 'libpq' {
  import { EventEmitter } from 'node:events';

  class PQ extends EventEmitter {
    connectSync(conninfo?: string): void;
    errorMessage(): string;
    finish(): void;
    exec(sql: string): void;
    execParams(sql: string, params: (string | null)[]): void;
    prepare(name: string, sql: string, nParams: number): void;
    execPrepared(name: string, params: (string | null)[]): void;
    resultStatus(): string;
    resultErrorMessage(): string;
    resultErrorFields(): { sqlState?: string } | undefined;
    /** PQtransactionStatus: 0 idle, 1 active, 2 in a transaction, 3 in a failed one, 4 connection bad. */
    transactionStatus(): number;
    ntuples(): number;
    nfields(): number;
    fname(i: number): string;
    ftype(i: number): number;
    getvalue(row: number, col: number): string;
    getisnull(row: number, col: number): boolean;
    cmdTuples(): string;
    clear(): void;
    startReader(): void;
    stopReader(): void;
    consumeInput(): boolean;
    notifies(): { relname: string; extra: string; be_pid: number } | undefined;
    escapeLiteral(s: string): string;
  }
  export = PQ;
}
