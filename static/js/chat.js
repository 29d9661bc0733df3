/* Atelier chat: streams a text model's answer into the page as it is written.

   The form works without this file (it posts, the page shows the whole answer). With it, the
   same form is posted with fetch to its data-stream-url, which answers text/event-stream:
     turn  {thread, turn}  the thread's address (a new chat gets one with its first question)
     delta {text}          a piece of the answer
     done  {html}          the finished turn as the page draws it, with its charge
     error {message, html} the question was not answered (nothing was charged)
   fetch with a stream reader rather than EventSource, because this is a POST with a CSRF token. */
(function () {
  "use strict";

  function parseEvents(buffer, handle) {
    // Events end with a blank line; the unfinished tail is kept for the next read.
    var parts = buffer.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var kind = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) handle(kind, JSON.parse(data.join("\n")));
    });
    return rest;
  }

  function replaceWith(node, html) {
    var holder = document.createElement("ol");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (fresh) node.replaceWith(fresh);
    return fresh || node;
  }

  async function send(form) {
    var prompt = form.querySelector("textarea[name=prompt]");
    var button = form.querySelector("button[type=submit]");
    var status = document.getElementById("chat-status");
    var list = document.getElementById("chat-turns");
    var template = document.getElementById("chat-turn-template");
    var question = prompt.value.trim();
    if (!question) {
      prompt.focus();
      return;
    }
    var turn = template.content.firstElementChild.cloneNode(true);
    turn.querySelector(".chat-question .chat-text").textContent = question;
    var answer = turn.querySelector(".chat-answer .chat-text");
    list.appendChild(turn);
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    var body = new FormData(form);
    button.disabled = true;
    status.textContent = "Answering…";
    var finished = false;

    function handle(kind, data) {
      if (kind === "turn") {
        if (location.pathname !== data.thread) {
          // A new chat now has an address: follow-ups go to the thread, a reload shows it.
          history.replaceState(null, "", data.thread);
          form.action = data.thread + "send";
          form.dataset.streamUrl = data.thread + "stream";
          var system = form.querySelector("[name=system]");
          if (system) system.closest(".field").remove();  // the thread keeps its system prompt
        }
      } else if (kind === "delta") {
        answer.textContent += data.text;
      } else if (kind === "done") {
        finished = true;
        turn = replaceWith(turn, data.html);
        prompt.value = "";
        var label = form.querySelector("label[for=chat-prompt]");
        if (label) label.textContent = "Your follow-up";
        status.textContent = "Answered. Each turn is charged for the tokens it uses.";
      } else if (kind === "error") {
        finished = true;
        if (data.html) turn = replaceWith(turn, data.html);
        else turn.remove();
        if (data.thread && location.pathname !== data.thread) {
          history.replaceState(null, "", data.thread);
          form.action = data.thread + "send";
          form.dataset.streamUrl = data.thread + "stream";
        }
        status.textContent = data.message;
      }
    }

    try {
      var response = await fetch(form.dataset.streamUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "text/event-stream" },
      });
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), handle);
      }
      parseEvents(buffer + decoder.decode() + "\n\n", handle);
      if (!finished) throw new Error("The answer stopped before it was finished.");
    } catch (error) {
      turn.removeAttribute("aria-busy");
      var price = turn.querySelector(".chat-price");
      if (price) price.textContent = "The connection was lost. Reload the page to see what was answered and charged.";
      status.textContent = "The connection was lost.";
    } finally {
      button.disabled = false;
      prompt.focus();
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "chat-form" || !form.dataset.streamUrl) return;
    if (!window.fetch || !window.ReadableStream || !window.TextDecoder) return;  // the form posts normally
    event.preventDefault();
    send(form);
  });

  // Enter sends, Shift+Enter starts a new line (as in most chat apps).
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || !target.matches || !target.matches("#chat-prompt")) return;
    event.preventDefault();
    target.form.requestSubmit();
  });
}());
