import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { errorMessage } from "@/api/client";
import { useMe } from "@/auth/auth";

/** Renders children for a signed-in user; sends everyone else to /login?next=<here>. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <div className="page-center muted">Loading…</div>;
  if (me.isError) {
    return (
      <div className="page-center">
        <p className="error-text">{errorMessage(me.error)}</p>
        <button type="button" className="btn" onClick={() => void me.refetch()}>
          Retry
        </button>
      </div>
    );
  }
  if (!me.data) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return <>{children}</>;
}
