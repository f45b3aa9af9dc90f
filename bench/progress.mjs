// What a long bench run shows while it goes: which case runs, its run number and an estimate of
// what is left. On a terminal it is one line, rewritten in place (on stderr, so that stdout keeps
// only the results); elsewhere (CI logs, a pipe) one plain line per case, since a rewritten line
// would be a wall of carriage returns there.

/** Formats seconds as `1m 05s` or `42s`. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Progress of a run of `cases` cases with `runsPerCase` timed runs each after one warm-up.
 * The estimate assumes every run left takes as long as the runs so far did on average: cases
 * differ, but the average over the cases already done is what predicts the rest best without
 * knowing each case's cost in advance.
 */
export class Progress {
  /**
   * @param {number} cases number of cases that will run
   * @param {number} runsPerCase timed runs per case (one warm-up run is added)
   * @param {NodeJS.WriteStream} [stream] where to write (stderr by default)
   */
  constructor(cases, runsPerCase, stream = process.stderr) {
    this.cases = cases;
    this.stepsPerCase = runsPerCase + 1;
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.started = performance.now();
    this.stepsDone = 0;
    this.caseIndex = 0;
    this.caseName = '';
    this.lineShown = false;
  }

  /** A new case starts. */
  startCase(name) {
    this.caseIndex++;
    this.caseName = name;
    if (!this.tty) this.stream.write(`[${this.caseIndex}/${this.cases}] ${name}${this.left()}\n`);
    else this.show('warm-up');
  }

  /** Run `run` of the current case (0 = warm-up) has finished. */
  runDone(run) {
    this.stepsDone++;
    if (this.tty) this.show(run + 1 < this.stepsPerCase ? `run ${run + 1}/${this.stepsPerCase - 1}` : 'done');
  }

  /** A case was skipped or failed before its runs: its steps count as done. */
  skipCase() {
    this.stepsDone = this.caseIndex * this.stepsPerCase;
  }

  /** Prints a line of results above the progress line. */
  log(line) {
    if (this.tty && this.lineShown) this.stream.write('\r\x1b[K');
    process.stdout.write(line + '\n');
    if (this.tty && this.lineShown) this.show();
  }

  /** Removes the progress line at the end. */
  finish() {
    if (this.tty && this.lineShown) this.stream.write('\r\x1b[K');
    this.lineShown = false;
  }

  left() {
    if (this.stepsDone === 0) return '';
    const elapsed = (performance.now() - this.started) / 1000;
    const remaining = this.cases * this.stepsPerCase - this.stepsDone;
    return `, about ${formatDuration((elapsed / this.stepsDone) * remaining)} left`;
  }

  show(what = this.lastWhat) {
    this.lastWhat = what;
    const line = `[${this.caseIndex}/${this.cases}] ${this.caseName} ${what}${this.left()}`;
    this.stream.write(`\r\x1b[K${line.slice(0, (this.stream.columns || 100) - 1)}`);
    this.lineShown = true;
  }
}
