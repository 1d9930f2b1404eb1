import { ShuniuError } from '@shuniu/protocol';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';

/**
 * The cells of a spreadsheet file, rows of values, for readSheet
 * (@shuniu/protocol): the first worksheet of an XLSX workbook (exceljs), or a
 * CSV file (csv-parse) in UTF-8 (with or without BOM) or, as Excel in China
 * saves it, GB18030/GBK.
 */
export async function readCells(bytes: Uint8Array, fileName: string): Promise<unknown[][]> {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.xlsx')) {
    const wb = new ExcelJS.Workbook();
    try {
      await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    } catch (cause) {
      throw new ShuniuError('E_ARGUMENT', `${fileName}: not an XLSX workbook (${(cause as Error).message})`, { cause });
    }
    const ws = wb.worksheets[0];
    if (!ws) throw new ShuniuError('E_ARGUMENT', `${fileName}: the workbook has no worksheet`);
    const rows: unknown[][] = [];
    ws.eachRow({ includeEmpty: true }, (row, n) => {
      const values = (row.values as unknown[]).slice(1);
      rows[n - 1] = values;
    });
    for (let i = 0; i < rows.length; i++) rows[i] ??= [];
    return rows;
  }
  if (lower.endsWith('.csv') || lower.endsWith('.txt'))
    return parse(decodeText(bytes), { relaxColumnCount: true, skipEmptyLines: false, bom: true }) as string[][];
  throw new ShuniuError('E_ARGUMENT', `${fileName}: a spreadsheet is .xlsx or .csv`);
}

/** UTF-8 when the bytes are UTF-8, else GB18030 (a superset of GBK and GB2312). */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}
