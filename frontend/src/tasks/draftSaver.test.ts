import { ApiError } from "@/api/client";

import { DraftSaver, type SaveState } from "./draftSaver";

type Put = { data: unknown; version: number };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("DraftSaver", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("debounces, sends the last value, and carries the server's version to the next save", async () => {
    const puts: Put[] = [];
    const saver = new DraftSaver(0, {
      put: async (data, version) => {
        puts.push({ data, version });
        return version + 1;
      },
      delayMs: 500,
    });
    saver.save({ n: 1 });
    saver.save({ n: 2 });
    await vi.advanceTimersByTimeAsync(499);
    expect(puts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(puts).toEqual([{ data: { n: 2 }, version: 0 }]);
    saver.save({ n: 3 });
    await saver.flush();
    expect(puts[1]).toEqual({ data: { n: 3 }, version: 1 });
    expect(saver.currentVersion).toBe(2);
  });

  it("keeps one request in flight and sends what changed meanwhile after it", async () => {
    const puts: Put[] = [];
    const gates: ReturnType<typeof deferred<number>>[] = [];
    const saver = new DraftSaver(3, {
      put: (data, version) => {
        puts.push({ data, version });
        const d = deferred<number>();
        gates.push(d);
        return d.promise;
      },
      delayMs: 10,
    });
    saver.save("a");
    await vi.advanceTimersByTimeAsync(10);
    saver.save("b");
    await vi.advanceTimersByTimeAsync(10);
    expect(puts).toHaveLength(1);
    gates[0]?.resolve(4);
    await vi.advanceTimersByTimeAsync(0);
    expect(puts).toEqual([
      { data: "a", version: 3 },
      { data: "b", version: 4 },
    ]);
  });

  it("stops on a 409 (changed elsewhere) and keeps the value after other failures for a retry", async () => {
    const states: SaveState[] = [];
    let fail: unknown = new ApiError(500, { detail: "oops" });
    const puts: unknown[] = [];
    const saver = new DraftSaver(0, {
      put: async (data) => {
        puts.push(data);
        if (fail) throw fail;
        return 1;
      },
      onState: (s) => states.push(s),
      delayMs: 1,
    });
    saver.save("x");
    await saver.flush();
    expect(states.at(-1)?.status).toBe("error");
    fail = null;
    saver.retry();
    await vi.advanceTimersByTimeAsync(0);
    expect(puts).toEqual(["x", "x"]);
    expect(states.at(-1)?.status).toBe("saved");

    fail = new ApiError(409, { detail: "This draft was changed elsewhere (another tab?)." });
    saver.save("y");
    await saver.flush();
    expect(states.at(-1)).toMatchObject({ status: "conflict", error: "This draft was changed elsewhere (another tab?)." });
    saver.save("z");
    await vi.advanceTimersByTimeAsync(5);
    expect(puts).toEqual(["x", "x", "y"]);
  });

  it("sends nothing after stop()", async () => {
    const put = vi.fn(async () => 1);
    const saver = new DraftSaver(0, { put, delayMs: 1 });
    saver.save(1);
    saver.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(put).not.toHaveBeenCalled();
  });
});
