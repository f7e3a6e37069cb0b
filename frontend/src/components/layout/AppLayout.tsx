import { Link, NavLink, Outlet, useNavigate } from "react-router";

import { useLogout, useMe } from "@/auth/auth";
import { ShortcutHelp } from "@/components/ShortcutHelp";

/** The thin top bar over every signed-in screen. */
export function AppLayout() {
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand" data-testid="nav-home">
          Tubelet
        </Link>
        <nav className="topnav">
          <NavLink to="/" end>
            Projects
          </NavLink>
        </nav>
        <div className="topbar-spacer" id="topbar-slot" />
        <span className="topbar-hint muted" title="Keyboard shortcuts">
          <kbd>?</kbd> shortcuts
        </span>
        {me.data && (
          <span className="topbar-user" data-testid="current-user">
            {me.data.username}
          </span>
        )}
        <button
          type="button"
          className="btn btn-ghost btn-small"
          data-testid="logout"
          onClick={() => {
            void logout().then(() => navigate("/login"));
          }}
        >
          Sign out
        </button>
      </header>
      <main className="app-main">
        <Outlet />
      </main>
      <ShortcutHelp />
    </div>
  );
}
