// Calls a live platform. tests/clients/test_js_client.py starts one and sets
// M3O_TEST_ADDRESS, M3O_TEST_TOKEN (a funded key) and M3O_TEST_BROKE_TOKEN
// (a key whose balance is zero); without them the tests are skipped.
// M3O_TEST_STREAMS=1 means the platform also serves stream endpoints. Streams
// go over a WebSocket where the runtime has one (node --experimental-websocket
// in Node 20), else over NDJSON; the test names say which.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import {
  APIError,
  BadRequestError,
  M3O,
  PaymentRequiredError,
  TransportError,
} from "../src/index.js";

const address = process.env.M3O_TEST_ADDRESS;
const skip = address ? false : "set M3O_TEST_ADDRESS, M3O_TEST_TOKEN and M3O_TEST_BROKE_TOKEN to a live platform";
const client = () => new M3O(process.env.M3O_TEST_TOKEN, { address });
const streamSkip = skip || (process.env.M3O_TEST_STREAMS === "1" ? false : "set M3O_TEST_STREAMS=1 when the platform serves streams");
const over = typeof globalThis.WebSocket === "function" ? "WebSocket" : "NDJSON";

async function collect(stream) {
  const messages = [];
  for await (const message of stream) messages.push(message);
  return messages;
}

test("helloworld answers a greeting", { skip }, async () => {
  const rsp = await client().helloworld.call({ name: "Alice" });
  assert.deepEqual(rsp, { message: "Hello Alice" });
});

test("a db record reads back as created", { skip }, async () => {
  const m3o = client();
  const { id } = await m3o.db.create({ table: "js_people", record: { name: "Ada", born: 1815 } });
  const { records } = await m3o.db.read({ table: "js_people", id });
  assert.equal(records.length, 1);
  assert.equal(records[0].name, "Ada");
  assert.equal(records[0].born, 1815);
  assert.deepEqual((await m3o.db.listTables()).tables, ["js_people"]);
});

test("a missing field is a BadRequestError with fields", { skip }, async () => {
  await assert.rejects(client().helloworld.call({}), (error) => {
    assert.ok(error instanceof BadRequestError);
    assert.ok(error instanceof APIError);
    assert.equal(error.code, 400);
    assert.ok(error.id.length > 0);
    assert.ok("name" in error.fields, JSON.stringify(error.fields));
    return true;
  });
});

test("an empty balance is a PaymentRequiredError", { skip }, async () => {
  const broke = new M3O(process.env.M3O_TEST_BROKE_TOKEN, { address });
  await assert.rejects(broke.helloworld.call({ name: "Alice" }), (error) => {
    assert.ok(error instanceof PaymentRequiredError);
    assert.equal(error.code, 402);
    assert.equal(error.id, "v1.insufficient_credit");
    assert.equal(error.status, "Payment Required");
    assert.ok(error.requestId);
    return true;
  });
});

test("call reaches any endpoint by name", { skip }, async () => {
  const rsp = await client().call("helloworld", "call", { name: "Bob" });
  assert.deepEqual(rsp, { message: "Hello Bob" });
});

test("an unreachable address is a TransportError", { skip }, async () => {
  const unreachable = new M3O("m3o_x", { address: process.env.M3O_TEST_CLOSED_ADDRESS || "http://127.0.0.1:9", timeout: 5000 });
  await assert.rejects(unreachable.helloworld.call({ name: "Alice" }), TransportError);
});

test(`a stream over ${over} receives every message`, { skip: streamSkip }, async () => {
  const messages = await collect(client().helloworld.stream({ name: "Alice", messages: 3 }));
  assert.deepEqual(messages, [{ message: "Hello Alice" }, { message: "Hello Alice" }, { message: "Hello Alice" }]);
});

test(`a stream over ${over} throws its 400 and 402 as typed errors`, { skip: streamSkip }, async () => {
  await assert.rejects(collect(client().helloworld.stream({})), (error) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.code, 400);
    assert.ok("name" in error.fields, JSON.stringify(error.fields));
    return true;
  });
  const broke = new M3O(process.env.M3O_TEST_BROKE_TOKEN, { address });
  await assert.rejects(collect(broke.helloworld.stream({ name: "Alice" })), (error) => {
    assert.ok(error instanceof PaymentRequiredError);
    assert.equal(error.id, "v1.insufficient_credit");
    return true;
  });
});

// A WebSocket cannot carry an Authorization header, so the key goes in
// Sec-WebSocket-Protocol, as browsers send it; the server confirms "m3o".
test("a WebSocket stream sends the key as a subprotocol", { skip: streamSkip || (over === "WebSocket" ? false : "needs a WebSocket class") }, async () => {
  const opened = [];
  class RecordingWebSocket extends globalThis.WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      opened.push({ url, protocols, socket: this });
    }
  }
  const m3o = new M3O(process.env.M3O_TEST_TOKEN, { address, webSocket: RecordingWebSocket });
  assert.deepEqual(await collect(m3o.stream("helloworld", "Stream", { name: "Bob", messages: 1 })), [{ message: "Hello Bob" }]);
  assert.equal(opened.length, 1);
  assert.equal(opened[0].url, `${address.replace(/^http/, "ws")}/v1/helloworld/Stream`);
  assert.deepEqual(opened[0].protocols, ["m3o", `m3o-key.${process.env.M3O_TEST_TOKEN}`]);
  assert.equal(opened[0].socket.protocol, "m3o");
});

// A local server speaks the platform's stream format, NDJSON lines closed by an
// error frame in the envelope, so the decoding is tested on its own.
test("a stream decodes NDJSON messages and throws an error frame", async () => {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const { name } = JSON.parse(body);
      response.writeHead(200, { "Content-Type": "application/x-ndjson" });
      response.write(JSON.stringify({ message: `Hello ${name} 0` }) + "\n");
      response.write(JSON.stringify({ message: `Hello ${name} 1` }) + "\n");
      response.end(JSON.stringify({ id: "v1.insufficient_credit", code: 402, detail: "Balance ran out.", status: "Payment Required" }) + "\n");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const m3o = new M3O("m3o_x", { address: `http://127.0.0.1:${server.address().port}`, webSocket: null });
  const messages = [];
  try {
    await assert.rejects(async () => {
      for await (const message of m3o.stream("helloworld", "Stream", { name: "Alice" })) messages.push(message);
    }, PaymentRequiredError);
  } finally {
    server.close();
  }
  assert.deepEqual(messages, [{ message: "Hello Alice 0" }, { message: "Hello Alice 1" }]);
});
