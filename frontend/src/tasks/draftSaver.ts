/**
 * Draft autosave for one task: debounced, one request in flight at a time, the last value wins,
 * and the server's draft version is carried from one save to the next (a save from a stale copy
 * gets a 409 instead of overwriting newer work).
 */
import { ApiError } from "@/api/client";

export type SaveStatus = "idle" | "pending" | "saving" | "saved" | "error" | "conflict";

export type SaveState = {
  status: SaveStatus;
  savedAt: number | null;
  error: string | null;
};

export type DraftSaverOptions = {
  /** PUT the draft; resolves to the stored version. */
  put: (data: unknown, version: number) => Promise<number>;
  onState?: (state: SaveState) => void;
  delayMs?: number;
  now?: () => number;
};

export class DraftSaver {
  private version: number;
  private pending: { data: unknown } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private state: SaveState = { status: "idle", savedAt: null, error: null };
  private readonly delayMs: number;
  private readonly now: () => number;

  constructor(
    version: number,
    private readonly options: DraftSaverOptions,
  ) {
    this.version = version;
    this.delayMs = options.delayMs ?? 800;
    this.now = options.now ?? Date.now;
  }

  get currentVersion(): number {
    return this.version;
  }

  get hasUnsaved(): boolean {
    return this.pending !== null || this.inFlight !== null;
  }

  /** The value that the next save would send (for a last-chance save on page hide). */
  get pendingData(): { data: unknown } | null {
    return this.pending;
  }

  private setState(patch: Partial<SaveState>) {
    this.state = { ...this.state, ...patch };
    this.options.onState?.(this.state);
  }

  save(data: unknown): void {
    if (this.stopped || this.state.status === "conflict") return;
    this.pending = { data };
    if (this.state.status !== "saving") this.setState({ status: "pending" });
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
  }

  /** Save what is pending now; resolves when nothing is left to save (or saving failed). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (!this.stopped) {
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      const next = this.pending;
      if (!next) return;
      this.pending = null;
      this.inFlight = this.send(next.data);
      await this.inFlight;
      this.inFlight = null;
      if (this.state.status === "error" || this.state.status === "conflict") return;
    }
  }

  private async send(data: unknown): Promise<void> {
    this.setState({ status: "saving", error: null });
    try {
      this.version = await this.options.put(data, this.version);
      if (this.stopped) return;
      this.setState({ status: this.pending ? "pending" : "saved", savedAt: this.now(), error: null });
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof ApiError && error.status === 409) {
        this.pending = null;
        this.setState({ status: "conflict", error: error.body.detail });
      } else {
        // Keep the value: the next change (or retry) sends it again.
        this.pending ??= { data };
        this.setState({ status: "error", error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** Try again after an error. */
  retry(): void {
    if (this.state.status === "error") void this.flush();
  }

  /** No more saves (the task was submitted, skipped or lost). */
  stop(): void {
    this.stopped = true;
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
