// Tells the server the browser's time zone (used when the user has chosen none).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("actlog_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "actlog_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: the server falls back to UTC */ }
})();
