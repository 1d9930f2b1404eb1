/**
 * The cells of a spreadsheet the operator picked, for readSheet
 * (@shuniu/protocol), in the browser: the first worksheet of an XLSX workbook
 * (exceljs) or a CSV file (csv-parse) in UTF-8 or GB18030. Both libraries are
 * chunks of their own, fetched only when a file is read.
 */
export async function readCells(file: File): Promise<unknown[][]> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const name = file.name.toLowerCase();
  if (name.endsWith('.xlsx')) {
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes.buffer as ArrayBuffer);
    const ws = wb.worksheets[0];
    if (!ws) throw new Error(`${file.name}: no worksheet`);
    const rows: unknown[][] = [];
    ws.eachRow({ includeEmpty: true }, (row, n) => {
      rows[n - 1] = (row.values as unknown[]).slice(1);
    });
    for (let i = 0; i < rows.length; i++) rows[i] ??= [];
    return rows;
  }
  if (name.endsWith('.csv') || name.endsWith('.txt')) {
    const { parse } = await import('csv-parse/browser/esm/sync');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = new TextDecoder('gb18030').decode(bytes);
    }
    return parse(text, { relaxColumnCount: true, skipEmptyLines: false, bom: true }) as string[][];
  }
  throw new Error(`${file.name}: .xlsx or .csv`);
}
