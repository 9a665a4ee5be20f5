// Runs a stream endpoint from the playground and shows each message as it arrives.
// It requests a single-use ticket from the server (a same-origin POST with the
// CSRF token), then opens the WebSocket on /v1/<service>/<endpoint> offering the
// ticket. The browser adds the session cookie and the server checks the Origin.
// The page never holds an API key. playground.js sends "m3o:stream-run" on Run.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("playground");
  const run = document.getElementById("run");
  const stop = document.getElementById("stop");
  if (!root || !root.dataset.streamTicketUrl || !run || !stop) return;
  const card = document.getElementById("stream");
  const list = document.getElementById("stream-messages");
  const state = document.getElementById("stream-state");
  const count = document.getElementById("stream-count");
  const cost = document.getElementById("stream-cost");
  const csrf = document.querySelector("body").getAttribute("hx-headers");
  const csrfToken = csrf ? JSON.parse(csrf)["X-CSRFToken"] : "";
  let socket = null;
  let stopping = false;

  function show(value, className) {
    const item = document.createElement("li");
    const pre = document.createElement("pre");
    pre.className = className;
    pre.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    item.append(pre);
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  function finish(text) {
    state.textContent = text;
    stop.hidden = true;
    run.disabled = false;
    socket = null;
  }

  function closed(event) {
    if (stopping) return "Stopped.";
    if (event.code === 1000) return "Stream ended.";
    if (event.code >= 4000 && event.code < 5000) return "Stream ended with error " + (event.code - 4000) + ".";
    return "Connection closed (" + event.code + ").";
  }

  async function ticket() {
    const response = await fetch(root.dataset.streamTicketUrl, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken, "Accept": "application/json"},
      credentials: "same-origin",
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = {code: response.status, detail: "The server did not answer with JSON. Reload the page and sign in again."};
    }
    return {ok: response.ok, status: response.status + " " + response.statusText, answer: answer};
  }

  root.addEventListener("m3o:stream-run", async (event) => {
    if (socket) return;
    run.disabled = true;
    stopping = false;
    list.replaceChildren();
    count.textContent = "0";
    cost.textContent = "0";
    card.hidden = false;
    state.textContent = "Opening…";

    let issued;
    try {
      issued = await ticket();
    } catch (error) {
      finish("Could not reach the server: " + error.message);
      return;
    }
    if (!issued.ok) {
      show(issued.answer, "code envelope");
      finish(issued.status);
      return;
    }

    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + window.location.host + issued.answer.path, ["m3o-metered", issued.answer.subprotocol]);
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify(event.detail.body));
      state.textContent = "Streaming…";
      stop.hidden = false;
    });
    socket.addEventListener("message", (frame) => {
      let data = frame.data;
      try {
        data = JSON.parse(frame.data);
      } catch (error) {
        // not JSON: show it as it came
      }
      if (data && typeof data === "object" && "cost_units" in data) {
        show(data.message, "code");
        count.textContent = String(data.count);
        cost.textContent = String(data.total_units);
      } else {
        show(data, "code envelope");  // an error frame: the envelope
      }
    });
    socket.addEventListener("close", (closing) => finish(closed(closing)));
  });

  stop.addEventListener("click", () => {
    if (!socket) return;
    stopping = true;
    socket.close(1000);
  });
});
