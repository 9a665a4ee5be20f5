// Runs the playground's request through /playground/<service>/<endpoint>/run
// and shows the response. The server does all checking and charging.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("playground");
  if (!root) return;
  const run = document.getElementById("run") || document.createElement("button");
  const editor = document.getElementById("request-body");
  const problem = document.getElementById("request-error");
  const csrf = document.querySelector("body").getAttribute("hx-headers");
  const csrfToken = csrf ? JSON.parse(csrf)["X-CSRFToken"] : "";

  function parsedRequest() {
    try {
      const value = JSON.parse(editor.value || "{}");
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        problem.textContent = "The request must be a JSON object, such as {\"name\": \"Alice\"}.";
        return null;
      }
      problem.textContent = "";
      return value;
    } catch (error) {
      problem.textContent = "The request is not valid JSON: " + error.message;
      return null;
    }
  }

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && document.getElementById("run")) {
      event.preventDefault();
      run.click();
    }
  });

  run.addEventListener("click", async () => {
    const body = parsedRequest();
    if (body === null) return;
    if (root.dataset.streamTicketUrl) {
      // A stream endpoint: playground_stream.js opens the stream.
      root.dispatchEvent(new CustomEvent("m3o:stream-run", {detail: {body: body}}));
      return;
    }
    run.disabled = true;
    document.getElementById("result").hidden = true;  // hide the previous response while this one runs
    const started = performance.now();
    try {
      const response = await fetch(root.dataset.runUrl, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken},
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const text = await response.text();
      let pretty = text;
      try {
        lastBody = JSON.parse(text);
        pretty = JSON.stringify(lastBody, null, 2);
      } catch (error) {
        lastBody = null;  // not JSON: show it as it came
      }
      document.getElementById("result").hidden = false;
      const status = document.getElementById("result-status");
      status.textContent = response.status + " " + response.statusText;
      status.className = "status s" + String(response.status)[0] + "xx";
      document.getElementById("result-latency").textContent = Math.round(performance.now() - started) + " ms";
      document.getElementById("result-cost").textContent = response.headers.get("X-M3O-Cost") || "0";
      document.getElementById("result-balance").textContent = response.headers.get("X-M3O-Balance") || "?";
      document.getElementById("result-body").textContent = pretty;
      const headers = [];
      response.headers.forEach((value, name) => headers.push(name + ": " + value));
      document.getElementById("result-headers").textContent = headers.join("\n");
    } finally {
      run.disabled = false;
    }
  });

  // Form view: one input per top-level property of the request schema, kept in step with the JSON.
  const schemaNode = document.getElementById("request-schema");
  const schema = schemaNode ? JSON.parse(schemaNode.textContent) : {};
  const form = document.getElementById("request-form");
  const properties = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);

  function buildForm() {
    const current = parsedRequest() || {};
    form.replaceChildren();
    for (const [name, spec] of Object.entries(properties)) {
      const label = document.createElement("label");
      label.textContent = name + (required.has(name) ? " (required)" : "");
      const input = document.createElement("input");
      input.name = name;
      if (spec.type === "boolean") {
        input.type = "checkbox";
        input.checked = name in current ? Boolean(current[name]) : Boolean(spec.default);
      } else {
        input.type = spec.type === "integer" || spec.type === "number" ? "number" : "text";
        if (spec.type === "integer") input.step = "1";
        if (spec.minimum !== undefined) input.min = spec.minimum;
        if (spec.maximum !== undefined) input.max = spec.maximum;
        if (spec.maxLength !== undefined) input.maxLength = spec.maxLength;
        input.value = name in current ? String(current[name]) : "";
      }
      if (spec.description) input.title = spec.description;
      input.addEventListener("input", syncFromForm);
      const hint = document.createElement("div");
      hint.className = "muted small";
      hint.textContent = [spec.type, spec.description].filter(Boolean).join(": ");
      form.append(label, input, hint);
    }
    if (!Object.keys(properties).length) form.textContent = "This endpoint takes no fields; edit the JSON instead.";
  }

  function syncFromForm() {
    const value = parsedRequest() || {};
    for (const input of form.querySelectorAll("input")) {
      const spec = properties[input.name] || {};
      if (input.type === "checkbox") value[input.name] = input.checked;
      else if (input.value === "") delete value[input.name];
      else if (input.type === "number") value[input.name] = Number(input.value);
      else value[input.name] = input.value;
    }
    editor.value = JSON.stringify(value, null, 2);
  }

  document.getElementById("show-form").addEventListener("click", () => {
    if (parsedRequest() === null) return;
    buildForm();
    form.hidden = false;
  });
  document.getElementById("show-json").addEventListener("click", () => { form.hidden = true; });

  let lastBody = null;
  const save = document.getElementById("save-example");
  if (save) {
    save.addEventListener("click", async () => {
      const status = document.getElementById("save-example-status");
      const saveRoot = save.closest(".save-example");
      const response = await fetch(saveRoot.dataset.saveUrl, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken},
        body: JSON.stringify({
          title: document.getElementById("example-title").value,
          request: parsedRequest(),
          response: lastBody,
        }),
        credentials: "same-origin",
      });
      const answer = await response.json();
      status.textContent = response.ok ? "Saved to the catalog." : answer.detail;
    });
  }

  const share = document.getElementById("share");
  if (share) {
    share.addEventListener("click", () => {
      const body = parsedRequest();
      if (body === null) return;
      const link = new URL(root.dataset.pageUrl, window.location.origin);
      link.searchParams.set("request", JSON.stringify(body));
      navigator.clipboard.writeText(link.toString());
      share.textContent = "Link copied";
    });
  }
});
