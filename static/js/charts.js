// Draws every figure the server embedded as <script type="application/json" data-chart="ID">
// into the element with that id. Figures are built in Python; this file only hands them to
// plotly.js, so pages need no inline script and the CSP can forbid them.
(function () {
  "use strict";

  function draw() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var nodes = document.querySelectorAll('script[type="application/json"][data-chart]');
    Array.prototype.forEach.call(nodes, function (node) {
      var target = document.getElementById(node.getAttribute("data-chart"));
      if (!target) {
        return;
      }
      var figure = JSON.parse(node.textContent);
      target.classList.add("chart-drawn");
      window.Plotly.newPlot(target, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
