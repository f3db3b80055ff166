// The review page's keyboard shortcuts: A accepts, R goes to the reason box (and rejects when
// a reason is already written); Ctrl+Enter in the box rejects. The buttons work without it.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("review-form");
    if (!form || event.altKey || event.metaKey) return;
    var reason = document.getElementById("id_reason");
    var typing = event.target.closest && event.target.closest("input, textarea, select");
    if (typing) {
      if (event.target === reason && event.key === "Enter" && event.ctrlKey) {
        event.preventDefault();
        document.getElementById("review-reject").click();
      }
      return;
    }
    if (event.ctrlKey) return;
    var key = event.key.toLowerCase();
    if (key === "a") {
      event.preventDefault();
      document.getElementById("review-accept").click();
    } else if (key === "r") {
      event.preventDefault();
      if (reason.value.trim()) {
        document.getElementById("review-reject").click();
      } else {
        reason.focus();
      }
    }
  });
})();
