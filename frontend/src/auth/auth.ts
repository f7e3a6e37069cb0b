import { useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ApiError, ensureCsrfCookie } from "@/api/client";
import type { Role, User } from "@/types/api";

export const ME_KEY = ["me"] as const;

/** Who is signed in; `data` is null when nobody is (the server answered 401/403). */
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async (): Promise<User | null> => {
      try {
        return await api<User>("/me");
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
        throw error;
      }
    },
    staleTime: 5 * 60_000,
    retry: 1,
  });
}

export async function login(username: string, password: string): Promise<User> {
  await ensureCsrfCookie();
  return api<User>("/auth/login", { method: "POST", body: { username, password } });
}

export function useLogout() {
  const client = useQueryClient();
  return async () => {
    try {
      await api<void>("/auth/logout", { method: "POST" });
    } finally {
      client.clear();
      client.setQueryData(ME_KEY, null);
    }
  };
}

export function roleIn(user: User | null | undefined, projectId: number): Role | null {
  if (!user) return null;
  if (user.is_superuser) return "admin";
  return user.memberships.find((m) => m.project.id === projectId)?.role ?? null;
}

/** Only same-site paths are followed after signing in (no open redirect). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
