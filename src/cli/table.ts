import Table from 'cli-table3';

/** A cli-table3 table with flowdoc's look: no colour unless asked, compact padding. */
export function makeTable(head: string[], colour: boolean, colWidths?: (number | null)[]): Table.Table {
  const options: Table.TableConstructorOptions = {
    head,
    style: { head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 },
    wordWrap: true,
  };
  if (colWidths) options.colWidths = colWidths;
  return new Table(options);
}

/** Two-column key/value table (for `info`). */
export function makeKeyValueTable(colour: boolean): Table.Table {
  return new Table({
    style: { head: [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 },
    wordWrap: true,
  });
}
