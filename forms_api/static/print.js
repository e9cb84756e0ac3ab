// Progressive enhancement: a print button where JavaScript runs; the page prints the same without it.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
