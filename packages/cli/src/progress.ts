/**
 * A progress bar on stderr for long work: redrawn in place on a terminal, a line every 10% otherwise
 * (CI logs), silent when `quiet`.
 */
export class ProgressBar {
  private readonly tty: boolean;
  private lastDraw = 0;
  private readonly lastDecile = new Map<string, number>();
  private readonly started = new Map<string, number>();

  constructor(private readonly quiet = false) {
    this.tty = Boolean(process.stderr.isTTY);
  }

  update(label: string, done: number, total: number): void {
    if (this.quiet || total <= 0) return;
    const fraction = Math.min(1, done / total);
    if (!this.started.has(label)) this.started.set(label, Date.now());
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 80 && done < total) return;
      this.lastDraw = now;
      const width = 28;
      const filled = Math.round(fraction * width);
      const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
      const rate = done / Math.max(0.001, (now - (this.started.get(label) ?? now)) / 1000);
      const text = `  ${label.padEnd(14)} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}  ${Math.round(rate).toLocaleString("en-US")}/s`;
      process.stderr.write(`\r\x1b[2K${text}`);
      if (done >= total) process.stderr.write("\n");
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile > 0 && (this.lastDecile.get(label) ?? 0) < decile) {
      this.lastDecile.set(label, decile);
      process.stderr.write(
        `  ${label} ${decile * 10}% (${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")})\n`,
      );
    }
  }
}
