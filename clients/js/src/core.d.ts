// Types of the transport every service calls through.

export declare class M3OError extends Error {}

/** The platform could not be reached, timed out, or answered something that is not the API. */
export declare class TransportError extends M3OError {
  constructor(message: string, options?: { cause?: unknown });
}

/** The platform's error envelope. */
export interface ErrorEnvelope {
  id: string;
  code: number;
  detail: string;
  status?: string;
  fields?: Record<string, string>;
}

export declare class APIError extends M3OError {
  constructor(values: ErrorEnvelope & { requestId?: string | null });
  readonly id: string;
  readonly code: number;
  readonly detail: string;
  readonly status: string;
  readonly fields: Record<string, string>;
  readonly requestId: string | null;
}
export declare class BadRequestError extends APIError {}
export declare class UnauthorizedError extends APIError {}
export declare class PaymentRequiredError extends APIError {}
export declare class ForbiddenError extends APIError {}
export declare class NotFoundError extends APIError {}
export declare class RateLimitedError extends APIError {
  retryAfter: number | null;
}
export declare class ServerError extends APIError {}

export declare function errorFromEnvelope(status: number, body: unknown, requestId?: string | null): APIError;

export declare const DEFAULT_TIMEOUT_MS: number;

export interface ClientOptions {
  /** Base URL of the platform; defaults to M3O_API_ADDRESS in Node, else the generated default. */
  address?: string;
  /** Milliseconds before a call is abandoned with a TransportError. */
  timeout?: number;
  /** A fetch implementation, for tests or older runtimes. */
  fetch?: typeof fetch;
  /**
   * The WebSocket class streams open; defaults to the runtime's global one.
   * null reads streams as NDJSON over POST instead.
   */
  webSocket?: typeof WebSocket | null;
}

export declare class Transport {
  constructor(token?: string, options?: ClientOptions & { defaultAddress?: string });
  readonly address: string;
  call<T = unknown>(service: string, endpoint: string, body?: unknown): Promise<T>;
  /** Read a stream endpoint's messages as an async iterable. */
  stream<T = unknown>(service: string, endpoint: string, body?: unknown): AsyncGenerator<T, void, undefined>;
}
