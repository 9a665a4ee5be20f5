// Calls a live platform. tests/clients/test_js_client.py starts one and sets
// M3O_TEST_ADDRESS, M3O_TEST_TOKEN (a funded key) and M3O_TEST_BROKE_TOKEN
// (a key whose balance is zero); without them the tests are skipped.
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
  const m3o = new M3O("m3o_x", { address: `http://127.0.0.1:${server.address().port}` });
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
