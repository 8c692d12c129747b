/** A progress bar on a terminal, plain lines otherwise (logs, CI, pipes). */
export class Progress {
  private lastLine = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly total: number, private readonly quiet = false) {}

  update(done: number): void {
    if (this.quiet || this.total <= 0) return;
    const frac = Math.min(1, done / this.total);
    if (this.tty) {
      const width = 30;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      process.stderr.write(`\r${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%`);
      if (done >= this.total) process.stderr.write('\n');
      return;
    }
    // Without a terminal, a line at each quarter.
    const quarter = Math.floor(frac * 4);
    if (quarter > this.lastLine) {
      this.lastLine = quarter;
      process.stderr.write(`${this.label}: ${quarter * 25}%\n`);
    }
  }
}
