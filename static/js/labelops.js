// Behaviour the pages need without inline script (the Content-Security-Policy allows none).
(function () {
  "use strict";
  // <a data-back href="/">: go back in the history when there is one, else follow the link.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-back]");
    if (!link || window.history.length < 2) return;
    event.preventDefault();
    window.history.back();
  });
})();
