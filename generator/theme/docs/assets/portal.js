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

  // 长辈版: remembered in the backend's cookie (forms_api/site.py: rs-elder=1, path /, a year), so the choice holds on
  // every page of the site and the online forms alike. Without this file the switch still shows this page at
  // #rs-elder (portal.css).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-rs-elder]");
    if (!link) return;
    event.preventDefault();
    var on = link.getAttribute("data-rs-elder") === "1";
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "rs-elder=" + (on ? "1; Max-Age=31536000" : "; Max-Age=0") + "; Path=/; SameSite=Lax" + secure;
    document.documentElement.classList.toggle("rs-elder", on);
    if (!on && window.location.hash === "#rs-elder") {
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    var other = document.querySelector('[data-rs-elder="' + (on ? "0" : "1") + '"]');
    if (other) other.focus();
    fit();
  });

  // A wide table that fits after all needs no "scroll sideways" hint (without this file: on every phone).
  function fit() {
    document.querySelectorAll(".rs-table--wide").forEach(function (table) {
      var scroll = table.querySelector(".rs-table__scroll");
      table.classList.toggle("rs-table--fits", scroll.scrollWidth <= scroll.clientWidth);
    });
  }
  fit();
  window.addEventListener("resize", fit);

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
    // "keywords" is the search-only metadata of a guide (names and 别名 cut into suffixes): never shown.
    var hide = function (result) { delete result.meta.keywords; return result; };
    var start = function (shards) {
      // A large site is indexed in several bundles (generator/mkdocs_build.py): search them as one.
      var merge = shards.map(function (path) { return { bundlePath: bundle + path }; });
      var ui = new PagefindUI({ element: "#rs-search", bundlePath: bundle, showSubResults: true, showImages: false,
                                processResult: hide, mergeIndex: merge });
      var query = new URLSearchParams(window.location.search).get("q");
      if (query) ui.triggerSearch(query);
    };
    fetch(bundle + "shards.json").then(function (r) { return r.ok ? r.json() : []; })
      .catch(function () { return []; }).then(start);
  };
  document.head.appendChild(script);
})();
