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

  // <img data-fallback="link">: a source that is not an image after all (or does not load)
  // becomes a note with a link to open it. `error` does not bubble: listen while capturing.
  function fallBack(img) {
    var note = document.createElement("p");
    note.className = "fallback small";
    note.appendChild(document.createTextNode("This source could not be shown as an image. "));
    var link = document.createElement("a");
    link.href = img.currentSrc || img.src;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = "Open it";
    note.appendChild(link);
    img.replaceWith(note);
  }
  document.addEventListener(
    "error",
    function (event) {
      var img = event.target;
      if (img && img.tagName === "IMG" && img.hasAttribute("data-fallback")) fallBack(img);
    },
    true
  );
  // Images that failed before this (deferred) script ran.
  function checkLoaded() {
    document.querySelectorAll("img[data-fallback]").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) fallBack(img);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", checkLoaded);
  else checkLoaded();

  // <form data-shortcuts>: 1–9 toggle the classes (data-key), Enter submits, S skips —
  // unless the labeler is typing in a text field, where keys keep their usual meaning
  // (Escape leaves the field).
  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("form[data-shortcuts]");
    if (!form || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    var target = event.target;
    var typing =
      target &&
      (target.tagName === "TEXTAREA" ||
        target.tagName === "SELECT" ||
        target.isContentEditable ||
        (target.tagName === "INPUT" && !/^(checkbox|radio|submit|button)$/.test(target.type)));
    if (typing) {
      // Escape leaves the text field, so the keys work again.
      if (event.key === "Escape" && form.contains(target)) target.blur();
      return;
    }
    var key = event.key;
    // Enter on a focused button or link does what that button or link does.
    if (key === "Enter" && target && (target.tagName === "BUTTON" || target.tagName === "A")) return;
    if (/^[1-9]$/.test(key)) {
      var box = form.querySelector('input[data-key="' + key + '"]');
      if (box) {
        box.checked = !box.checked;
        event.preventDefault();
      }
    } else if (key === "Enter" || key === "s" || key === "S") {
      var action = key === "Enter" ? "submit" : "skip";
      var button = form.querySelector('button[name="action"][value="' + action + '"]');
      if (button && !button.disabled) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(button);
        else button.click();
      }
    }
  });
})();
