// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".rs-print");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  var box = document.getElementById("rs-search");
  if (!box) return;
  var bundle = new URL(box.getAttribute("data-bundle"), document.baseURI).href;
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = bundle + "pagefind-ui.css";
  document.head.appendChild(css);
  var script = document.createElement("script");
  script.src = bundle + "pagefind-ui.js";
  script.onload = function () {
    var ui = new PagefindUI({ element: "#rs-search", bundlePath: bundle, showSubResults: true, showImages: false });
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) ui.triggerSearch(query);
  };
  document.head.appendChild(script);
})();
