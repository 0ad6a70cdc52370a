// Network page: a click on a structure of the graph (a link to "#structure-<id>") shows that
// structure's row in the table of structures, highlighted, with its links; the structure is
// outlined in both graphs. Works with the keyboard (the nodes are links) and with the table's own
// links. Without JavaScript, the browser still jumps to the row.
(function () {
  "use strict";
  var selectedRow = null;
  var selectedShapes = [];

  function clear() {
    if (selectedRow) {
      selectedRow.classList.remove("table-warning");
      selectedRow.removeAttribute("aria-current");
    }
    selectedShapes.forEach(function (shape) {
      shape.setAttribute("stroke-width", "1");
    });
    selectedRow = null;
    selectedShapes = [];
  }

  function show() {
    clear();
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (id.indexOf("structure-") !== 0) {
      return;
    }
    var row = document.getElementById(id);
    if (!row || row.tagName !== "TR") {
      return;
    }
    row.classList.add("table-warning");
    row.setAttribute("aria-current", "true");
    row.setAttribute("tabindex", "-1");
    row.focus();
    selectedRow = row;
    document.querySelectorAll("svg.network-graph a").forEach(function (node) {
      if (node.getAttribute("href") === "#" + id) {
        var shape = node.querySelector("circle, rect, polygon");
        if (shape) {
          shape.setAttribute("stroke-width", "3");
          selectedShapes.push(shape);
        }
      }
    });
  }

  window.addEventListener("hashchange", show);
  show();
})();
