// Refreshes the callback queue without reloading the page. A refresh waits
// while someone is filling in a form in the queue, so that a choice of
// outcome is not wiped out under their hands.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) { return; }
  var busy = false;
  queue.addEventListener("focusin", function () { busy = true; });
  queue.addEventListener("focusout", function () { busy = false; });
  function refresh() {
    if (busy || document.hidden) { return; }
    fetch(queue.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { window.location = "/console/signin"; return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null && !busy) { queue.innerHTML = html; } })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
