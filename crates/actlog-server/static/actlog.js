// Tells the server the browser's time zone (used when the user has chosen none).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("actlog_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "actlog_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: the server falls back to UTC */ }
})();

// The activity log's down arrows: each button shows or hides its details row.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button.expand") : null;
  if (!button) return;
  var row = document.getElementById(button.getAttribute("aria-controls"));
  if (!row) return;
  var open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", open ? "false" : "true");
  row.hidden = open;
});
