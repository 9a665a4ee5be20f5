// Type-checked by tests/clients/test_js_client.py with tsc --strict, never run:
// it proves the declarations describe the generated modules.
import { BadRequestError, M3O, PaymentRequiredError, db } from "../src/index.js";

export async function firstCall(): Promise<string> {
  const m3o = new M3O("m3o_key", { address: "http://127.0.0.1:8000", timeout: 1000 });
  const { message } = await m3o.helloworld.call({ name: "Alice" });
  const request: db.ReadRequest = { table: "people", order: "asc", limit: 10 };
  const { records } = await m3o.db.read(request);
  const first: Record<string, unknown> | undefined = records[0];
  try {
    await m3o.db.create({ table: "people", record: { name: "Ada" } });
  } catch (error) {
    if (error instanceof PaymentRequiredError) return `${error.code} ${error.id} ${error.requestId}`;
    if (error instanceof BadRequestError) return Object.keys(error.fields).join(",");
  }
  for await (const item of m3o.stream<{ message: string }>("helloworld", "Stream", { name: "Alice" })) {
    return item.message;
  }
  return `${message} ${String(first)}`;
}

// @ts-expect-error: an unknown field is a type error.
new M3O("m3o_key").helloworld.call({ nme: "Alice" });
// @ts-expect-error: a value outside the enum is a type error.
new M3O("m3o_key").db.read({ table: "people", order: "sideways" });
