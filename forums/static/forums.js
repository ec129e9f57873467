// Progressive enhancement for topic pages; everything works without it.
// 1. Read beacon: once the page has been visible for a moment, tell the hub which posts
//    were on screen (a POST, so a page view itself never writes).
// 2. Inline replies: "Reply" under a post moves the reply form there.
(function () {
  "use strict";

  var readForm = document.getElementById("read-form");
  if (readForm) {
    var newest = parseInt(readForm.getAttribute("data-newest"), 10) || 0;
    var seen = parseInt(readForm.getAttribute("data-seen"), 10) || 0;
    var sent = false;
    var send = function () {
      if (sent || newest <= seen || document.visibilityState !== "visible") { return; }
      sent = true;
      var data = new FormData();
      data.append("csrf_token", readForm.elements.csrf_token.value);
      data.append("up_to", String(newest));
      data.append("beacon", "1");
      if (navigator.sendBeacon) {
        navigator.sendBeacon(readForm.action, data);
      } else {
        fetch(readForm.action, { method: "POST", body: data, credentials: "same-origin", keepalive: true });
      }
    };
    window.setTimeout(send, 1500);
    document.addEventListener("visibilitychange", function () { window.setTimeout(send, 1500); });
  }

  var form = document.getElementById("reply-form");
  if (!form) { return; }
  var section = document.getElementById("reply");
  var home = section.parentNode;
  var homeNext = section.nextSibling;
  var note = form.querySelector(".replying-to");
  var heading = section.querySelector("h2");
  var headingText = heading ? heading.textContent : "";
  var parentInput = form.elements.parent_id;

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-reply]");
    if (link) {
      event.preventDefault();
      var article = document.getElementById("p" + link.getAttribute("data-reply"));
      parentInput.value = link.getAttribute("data-reply");
      if (heading) { heading.textContent = link.textContent + ": " + link.getAttribute("data-reply-name"); }
      note.hidden = false;
      article.parentNode.insertBefore(section, article.nextSibling);
      section.classList.add("inline");
      form.elements.body.focus();
      return;
    }
    if (event.target.hasAttribute && event.target.hasAttribute("data-reply-cancel")) {
      parentInput.value = "";
      note.hidden = true;
      if (heading) { heading.textContent = headingText; }
      section.classList.remove("inline");
      home.insertBefore(section, homeNext);
    }
  });
})();
