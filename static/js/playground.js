// Runs the playground's request through /playground/<service>/<endpoint>/run
// and shows the response. The server does all checking and charging.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("playground");
  const run = document.getElementById("run");
  if (!root || !run) return;
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

  run.addEventListener("click", async () => {
    const body = parsedRequest();
    if (body === null) return;
    run.disabled = true;
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
      try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (error) { /* not JSON: show as is */ }
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
