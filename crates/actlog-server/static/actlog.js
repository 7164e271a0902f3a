// Tells the server the browser's time zone (used when the user has chosen none).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("actlog_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "actlog_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: the server falls back to UTC */ }
})();

// The activity log's down arrows: each button shows or hides its details row. The page
// carries no details (they would make it hundreds of KB); a row's details are fetched from
// /activity-log/details once, when the pointer or the keyboard focus reaches its arrow, so
// they are usually in place before the click. The fragment is server-rendered and escaped.
function detailsRow(button) {
  return document.getElementById(button.getAttribute("aria-controls"));
}

function loadDetails(button) {
  var row = detailsRow(button);
  var record = button.closest("tr.record");
  var table = button.closest("table");
  if (!row || !record || !table || row.getAttribute("data-state")) return;
  var cell = row.firstElementChild;
  row.setAttribute("data-state", "loading");
  row.setAttribute("aria-busy", "true");
  cell.textContent = table.getAttribute("data-loading") || "";
  var url = "/activity-log/details?id=" + encodeURIComponent(record.getAttribute("data-id"));
  fetch(url, { credentials: "same-origin", headers: { "accept": "text/html" } })
    .then(function (response) {
      // A signed-out session is redirected to the sign-in page: not details.
      if (!response.ok || response.redirected) throw new Error("status " + response.status);
      return response.text();
    })
    .then(function (html) {
      cell.innerHTML = html;
      row.setAttribute("data-state", "loaded");
    })
    .catch(function () {
      cell.textContent = table.getAttribute("data-failed") || "";
      // The next expand tries again.
      row.removeAttribute("data-state");
    })
    .then(function () { row.setAttribute("aria-busy", "false"); });
}

function expandButton(event) {
  return event.target.closest ? event.target.closest("button.expand") : null;
}

["pointerover", "focusin"].forEach(function (type) {
  document.addEventListener(type, function (event) {
    var button = expandButton(event);
    if (button) loadDetails(button);
  });
});

document.addEventListener("click", function (event) {
  var button = expandButton(event);
  if (!button) return;
  var row = detailsRow(button);
  if (!row) return;
  var open = button.getAttribute("aria-expanded") === "true";
  if (!open) loadDetails(button);
  button.setAttribute("aria-expanded", open ? "false" : "true");
  row.hidden = open;
});
