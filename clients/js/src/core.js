// The transport every service calls through: POST /v1/<service>/<endpoint> with a Bearer key.

/** Base of every error this package throws. */
export class M3OError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** The platform could not be reached, timed out, or returned a response that is not the API's. */
export class TransportError extends M3OError {
  constructor(message, options) {
    super(message);
    if (options && options.cause) this.cause = options.cause;
  }
}

/** The platform's error envelope: {id, code, detail, status, fields?}. */
export class APIError extends M3OError {
  constructor({ id, code, detail, status = "", fields = {}, requestId = null }) {
    super(`${code} ${id}: ${detail}`);
    this.id = id;
    this.code = code;
    this.detail = detail;
    this.status = status;
    this.fields = fields;
    this.requestId = requestId;
  }
}

/** 400: the request body is invalid; `fields` names each invalid field. */
export class BadRequestError extends APIError {}
/** 401: the API key is missing, invalid, revoked or expired. */
export class UnauthorizedError extends APIError {}
/** 402: the balance does not cover the price of the call. */
export class PaymentRequiredError extends APIError {}
/** 403: the account is suspended or the key may not call this service. */
export class ForbiddenError extends APIError {}
/** 404: no such service, endpoint or object. */
export class NotFoundError extends APIError {}
/** 429: too many calls. `retryAfter` is the wait before trying again, in seconds. */
export class RateLimitedError extends APIError {}
/** 5xx: the platform or an upstream API failed; the call was not charged. */
export class ServerError extends APIError {}

const BY_CODE = {
  400: BadRequestError,
  401: UnauthorizedError,
  402: PaymentRequiredError,
  403: ForbiddenError,
  404: NotFoundError,
  429: RateLimitedError,
};

/** Decode an error response; a body that is not the envelope still gives an APIError for its status. */
export function errorFromEnvelope(status, body, requestId = null) {
  let values;
  if (body && typeof body === "object" && typeof body.id === "string" && typeof body.detail === "string") {
    values = {
      id: body.id,
      code: Number.isInteger(body.code) ? body.code : status,
      detail: body.detail,
      status: typeof body.status === "string" ? body.status : "",
      fields: body.fields && typeof body.fields === "object" ? body.fields : {},
      requestId,
    };
  } else {
    values = { id: "client.unexpected_response", code: status, detail: `HTTP ${status} without an error envelope.`, requestId };
  }
  const ErrorClass = BY_CODE[values.code] || (values.code >= 500 ? ServerError : APIError);
  return new ErrorClass(values);
}

function envProcess() {
  return typeof process !== "undefined" && process.env ? process.env : {};
}

export const DEFAULT_TIMEOUT_MS = 30000;

export class Transport {
  /**
   * @param {string | undefined} token  the API key; defaults to M3O_API_TOKEN in Node
   * @param {{address?: string, timeout?: number, fetch?: typeof fetch, webSocket?: typeof WebSocket | null, defaultAddress?: string}} options
   */
  constructor(token, options = {}) {
    const env = envProcess();
    this.token = token ?? env.M3O_API_TOKEN ?? "";
    this.address = (options.address || env.M3O_API_ADDRESS || options.defaultAddress || "").replace(/\/+$/, "");
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.fetch = options.fetch || globalThis.fetch.bind(globalThis);
    // null reads streams as NDJSON even where the runtime has a WebSocket class.
    this.WebSocket = options.webSocket === undefined ? globalThis.WebSocket : options.webSocket;
  }

  headers(accept = "application/json") {
    const headers = { "Content-Type": "application/json", Accept: accept };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  url(service, endpoint) {
    return `${this.address}/v1/${encodeURIComponent(service)}/${encodeURIComponent(endpoint)}`;
  }

  async post(service, endpoint, body, accept) {
    try {
      return await this.fetch(this.url(service, endpoint), {
        method: "POST",
        headers: this.headers(accept),
        body: JSON.stringify(body ?? {}),
        signal: AbortSignal.timeout(this.timeout),
      });
    } catch (cause) {
      throw new TransportError(`Could not reach ${this.address}: ${cause.message}`, { cause });
    }
  }

  async decodeError(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const error = errorFromEnvelope(response.status, body, response.headers.get("X-Request-Id"));
    if (error instanceof RateLimitedError) {
      const seconds = Number(response.headers.get("Retry-After"));
      error.retryAfter = Number.isFinite(seconds) ? seconds : null;
    }
    return error;
  }

  /** Call an endpoint; resolves to its JSON, rejects with APIError or TransportError. */
  async call(service, endpoint, body) {
    const response = await this.post(service, endpoint, body);
    if (response.status >= 400) throw await this.decodeError(response);
    try {
      return await response.json();
    } catch (cause) {
      throw new TransportError(`${this.url(service, endpoint)} returned HTTP ${response.status} with a body that is not JSON.`, { cause });
    }
  }

  /**
   * Read a stream endpoint's messages as an async iterable.
   *
   * Where a WebSocket class exists (browsers, Node 22, Node 20 with
   * --experimental-websocket), the first text frame is the request. The key
   * goes in Sec-WebSocket-Protocol as "m3o-key.<key>" beside "m3o", and the
   * server confirms "m3o" so that it does not echo the key. Elsewhere the
   * NDJSON response to a POST is read. An error frame in the envelope is
   * thrown as APIError.
   */
  stream(service, endpoint, body) {
    if (typeof this.WebSocket === "function") return this.webSocketStream(service, endpoint, body);
    return this.ndjsonStream(service, endpoint, body);
  }

  async *ndjsonStream(service, endpoint, body) {
    const response = await this.post(service, endpoint, body, "application/x-ndjson");
    if (response.status >= 400) throw await this.decodeError(response);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) yield this.frame(line);
      }
    }
    if (buffer.trim()) yield this.frame(buffer.trim());
  }

  async *webSocketStream(service, endpoint, body) {
    const url = this.url(service, endpoint).replace(/^http/, "ws");
    const socket = new this.WebSocket(url, this.token ? ["m3o", `m3o-key.${this.token}`] : ["m3o"]);
    const queue = [];
    let wake = null;
    let done = false;
    const push = (item) => {
      queue.push(item);
      if (wake) wake();
    };
    socket.onopen = () => socket.send(JSON.stringify(body ?? {}));
    socket.onmessage = (event) => push({ data: event.data });
    socket.onerror = () => push({ error: new TransportError(`WebSocket to ${url} failed.`) });
    socket.onclose = (event) => {
      // The platform closes a finished stream with 1000, and a failed one with
      // 4000 + status after the error frame, which the reader throws first.
      // Any other code means the connection broke before the stream ended.
      if (event.code !== 1000 && event.code < 4000) {
        push({ error: new TransportError(`WebSocket to ${url} closed with code ${event.code} before the stream ended.`) });
      }
      done = true;
      if (wake) wake();
    };
    try {
      while (true) {
        if (queue.length === 0) {
          if (done) return;
          await new Promise((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        const item = queue.shift();
        if (item.error) throw item.error;
        yield this.frame(String(item.data));
      }
    } finally {
      socket.close();
    }
  }

  frame(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch (cause) {
      throw new TransportError("The stream sent a message that is not JSON.", { cause });
    }
    if (message && typeof message === "object" && Number.isInteger(message.code) && message.code >= 400 && typeof message.id === "string") {
      throw errorFromEnvelope(message.code, message);
    }
    return message;
  }
}
