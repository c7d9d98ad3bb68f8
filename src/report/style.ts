/** Terminal styling: ANSI colour only when the caller says colour is allowed (a TTY without NO_COLOR). */
export interface Style {
  bold(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  cyan(s: string): string;
  enabled: boolean;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function makeStyle(colour: boolean): Style {
  if (!colour) {
    const id = (s: string) => s;
    return { bold: id, red: id, yellow: id, green: id, dim: id, cyan: id, enabled: false };
  }
  return { bold: wrap(1, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), dim: wrap(2, 22), cyan: wrap(36, 39), enabled: true };
}
