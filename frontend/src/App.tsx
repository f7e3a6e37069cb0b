import { lazy, Suspense } from "react";
import { Link, Route, Routes } from "react-router";

import { RequireAuth } from "@/auth/RequireAuth";
import { AppLayout } from "@/components/layout/AppLayout";
import HomePage from "@/pages/Home";
import LoginPage from "@/pages/Login";
import TaskPage from "@/pages/TaskPage";
import WorkPage from "@/pages/Work";

const DashboardPage = lazy(() => import("@/pages/dashboard/DashboardPage"));
const ExportsPage = lazy(() => import("@/pages/exports/ExportsPage"));

function NotFound() {
  return (
    <div className="page-center">
      <h2>Not found</h2>
      <Link to="/" className="btn">
        Back to projects
      </Link>
    </div>
  );
}

export default function App() {
  return (
    <Suspense fallback={<div className="page-center muted">Loading…</div>}>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route
          element={
            <RequireAuth>
              <AppLayout />
            </RequireAuth>
          }
        >
          <Route index element={<HomePage />} />
          <Route path="/projects/:projectId/work/:queue" element={<WorkPage />} />
          <Route path="/tasks/:taskId" element={<TaskPage />} />
          <Route path="/projects/:projectId/dashboard" element={<DashboardPage />} />
          <Route path="/projects/:projectId/exports" element={<ExportsPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
