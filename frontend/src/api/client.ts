/**
 * The one way the app talks to the server: JSON over fetch, session cookie, Django's CSRF header,
 * and every non-2xx turned into an ApiError carrying the server's {detail, code, errors, current}.
 */
import type { ErrorBody } from "@/types/api";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type ApiInit = {
  method?: HttpMethod;
  body?: unknown;
  signal?: AbortSignal;
  /** Let the request outlive the page (release on leave). */
  keepalive?: boolean;
};

export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody) {
    super(body.detail);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }

  get code(): string | undefined {
    return this.body.code;
  }

  /** A stale write or a closed/expired task: the UI says so and offers a reload. */
  get isConflict(): boolean {
    return this.status === 409;
  }
}

/** Status 0: the request never got an answer (offline, server down, aborted). */
export const NETWORK_ERROR_STATUS = 0;

const API_ROOT = "/api";
const SAFE: ReadonlySet<HttpMethod> = new Set(["GET"]);

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

let csrfPromise: Promise<void> | null = null;

/** Make sure the csrftoken cookie exists (Django sets it on the SPA page and on GET auth/csrf). */
export async function ensureCsrfCookie(): Promise<void> {
  if (readCookie("csrftoken")) return;
  csrfPromise ??= fetch(`${API_ROOT}/auth/csrf`, { credentials: "same-origin" })
    .then(() => undefined)
    .finally(() => {
      csrfPromise = null;
    });
  await csrfPromise;
}

function errorBodyOf(status: number, statusText: string, parsed: unknown): ErrorBody {
  if (parsed && typeof parsed === "object" && typeof (parsed as ErrorBody).detail === "string") {
    return parsed as ErrorBody;
  }
  const detail =
    status === 502 || status === 503 || status === 504
      ? "The server is not answering right now. Try again in a moment."
      : `The server answered ${status}${statusText ? ` ${statusText}` : ""}.`;
  return { detail, code: `http_${status}` };
}

/**
 * `api<T>(path)`: path relative to /api (e.g. `/tasks/7`). Sends JSON, the X-CSRFToken header on
 * writes and the session cookie; resolves to the parsed body (undefined for 204); throws ApiError.
 */
export async function api<T>(path: string, init: ApiInit = {}): Promise<T> {
  const method = init.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE.has(method)) {
    await ensureCsrfCookie();
    const token = readCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  let response: Response;
  try {
    response = await fetch(`${API_ROOT}${path}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      signal: init.signal,
      keepalive: init.keepalive,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(NETWORK_ERROR_STATUS, {
      detail: "Cannot reach the server. Check your connection; nothing was saved by this action.",
      code: "network",
    });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) throw new ApiError(response.status, errorBodyOf(response.status, response.statusText, parsed));
  return parsed as T;
}

/** A message fit for a person, from anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.body.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}
