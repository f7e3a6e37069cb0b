/**
 * Keeps the lease on a task alive while the person works on it.
 *
 * - A heartbeat at once, then every HEARTBEAT_MS while the person interacted within the last
 *   few minutes (an abandoned tab stops beating, so its lease expires about lease_minutes after
 *   the last interaction and the task returns to the queue). `active` tells the server whether they interacted
 *   since the previous beat (time tracking).
 * - The lease deadline is tracked locally; past it, a beat confirms with the server.
 * - 409 (lease expired, task closed) / 403 (not yours) / 404 end the lease: `lost` says why.
 */
import { useCallback, useEffect, useRef, useState } from "react";

import { api, ApiError, NETWORK_ERROR_STATUS } from "@/api/client";

export const HEARTBEAT_MS = 60_000;
const CHECK_MS = 5_000;
const EXPIRY_MARGIN_MS = 15_000;
const IDLE_GRACE_MS = 5 * 60_000;

export type LeaseLost = { code: string; message: string };

export type LeaseState = {
  /** Local clock time at which the lease runs out, if no further beat extends it. */
  deadline: number;
  lost: LeaseLost | null;
  /** The last beat could not reach the server. */
  offline: boolean;
};

export function leaseLostFrom(error: unknown): LeaseLost | null {
  if (!(error instanceof ApiError)) return null;
  if (error.status === 409 || error.status === 403 || error.status === 404) {
    return { code: error.body.code ?? String(error.status), message: error.body.detail };
  }
  return null;
}

export function useLease(taskId: number, leaseMinutes: number, enabled = true) {
  const leaseMs = Math.max(1, leaseMinutes) * 60_000;
  const [state, setState] = useState<LeaseState>(() => ({ deadline: Date.now() + leaseMs, lost: null, offline: false }));
  const lastActivity = useRef(0);
  const lastBeat = useRef(0);
  const lostRef = useRef(false);
  const inFlight = useRef(false);
  const deadlineRef = useRef(0);

  const beat = useCallback(async () => {
    if (lostRef.current || inFlight.current) return;
    inFlight.current = true;
    const active = lastActivity.current > lastBeat.current;
    const sentAt = Date.now();
    try {
      await api<{ lease_expires_at: string }>(`/tasks/${taskId}/heartbeat`, { method: "POST", body: { active } });
      lastBeat.current = sentAt;
      deadlineRef.current = sentAt + leaseMs;
      setState((s) => ({ ...s, deadline: sentAt + leaseMs, offline: false }));
    } catch (error) {
      const lost = leaseLostFrom(error);
      if (lost) {
        lostRef.current = true;
        setState((s) => ({ ...s, lost }));
      } else if (error instanceof ApiError && error.status === NETWORK_ERROR_STATUS) {
        setState((s) => ({ ...s, offline: true }));
      }
    } finally {
      inFlight.current = false;
    }
  }, [taskId, leaseMs]);

  /** The lease ended for a reason the page learned elsewhere (a 409 on save or submit). */
  const markLost = useCallback((lost: LeaseLost) => {
    lostRef.current = true;
    setState((s) => ({ ...s, lost }));
  }, []);

  useEffect(() => {
    if (!enabled) return;
    lostRef.current = false;
    lastActivity.current = Date.now();
    const onActivity = () => {
      lastActivity.current = Date.now();
    };
    const events = ["keydown", "pointerdown", "wheel", "pointermove"] as const;
    events.forEach((e) => window.addEventListener(e, onActivity, { passive: true }));
    // The first beat confirms the lease at once (its state update comes after the request).
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void beat();
    const interval = setInterval(() => {
      // Someone who stopped interacting keeps the lease for IDLE_GRACE_MS plus the lease window.
      if (Date.now() - lastActivity.current < Math.min(leaseMs, IDLE_GRACE_MS)) void beat();
    }, HEARTBEAT_MS);
    deadlineRef.current = Date.now() + leaseMs;
    const check = setInterval(() => {
      // Past the deadline (with a margin, so an idle tab never extends a lease at the last
      // second), ask the server: it confirms the expiry with a 409.
      if (Date.now() > deadlineRef.current + EXPIRY_MARGIN_MS) void beat();
    }, CHECK_MS);
    const onVisible = () => {
      if (document.visibilityState === "visible") void beat();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      events.forEach((e) => window.removeEventListener(e, onActivity));
      clearInterval(interval);
      clearInterval(check);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [beat, enabled, leaseMs]);

  return { ...state, beat, markLost };
}
