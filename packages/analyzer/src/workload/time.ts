/** Server times as the workload sources give them. */

const SERVER_TIME = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?/;

/**
 * 'YYYY-MM-DD HH:MM:SS[.ffffff]' (a DATETIME or TIMESTAMP in the server's time zone) -> ms since the
 * epoch, read as UTC: workloads only use differences between times from one server.
 */
export function parseServerTime(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const match = SERVER_TIME.exec(value);
  if (!match) return undefined;
  const ms = Date.UTC(
    Number(match[1]),
    Number(match[2]) - 1,
    Number(match[3]),
    Number(match[4]),
    Number(match[5]),
    Number(match[6]),
  );
  return ms + Number(`0.${match[7] ?? "0"}`) * 1000;
}
