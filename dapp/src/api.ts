// The REST API client: same origin as the page (the API serves it at /app). Every failure is an
// ApiError of a kind the page words differently: unreachable, unavailable (503), or a problem.
import type { Deployment } from "./types";

export type ApiErrorKind = "unreachable" | "unavailable" | "not-found" | "problem";

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number | null,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
  }
}

const TIMEOUT_MS = 8000;

export class Api {
  constructor(private readonly base: string = window.location.origin) {}

  async get<T>(path: string, params: Record<string, string | number | string[] | null | undefined> = {}): Promise<T> {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(params)) {
      if (value === null || value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
    } catch (exc) {
      throw new ApiError("unreachable", null, exc instanceof Error ? exc.message : String(exc));
    } finally {
      window.clearTimeout(timer);
    }
    if (response.ok) return (await response.json()) as T;
    let detail = response.statusText;
    try {
      const body = (await response.json()) as { detail?: string };
      detail = body.detail ?? detail;
    } catch {
      // not a problem+json body (a proxy's error page): keep the status text
    }
    const kind: ApiErrorKind =
      response.status === 503 || response.status === 502 || response.status === 504
        ? "unavailable"
        : response.status === 404
          ? "not-found"
          : "problem";
    throw new ApiError(kind, response.status, detail);
  }

  deployment(): Promise<Deployment> {
    return this.get<Deployment>("/v1/deployment");
  }
}
