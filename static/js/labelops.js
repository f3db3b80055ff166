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

  // A form marked data-swap-errors shows the server's refusal (400/409/413 with a partial
  // that says why) in its target; htmx 2 would otherwise drop every 4xx answer silently.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!status || status < 400 || status >= 500 || status === 401 || status === 403) return;
    if (!elt || !elt.closest || !elt.closest("[data-swap-errors]")) return;
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });
})();
