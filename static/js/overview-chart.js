// The overview's labelling-progress chart: reads the figures the page embeds with json_script.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("progress-chart");
    var source = document.getElementById("progress-data");
    if (!canvas || !source || typeof Chart === "undefined") return;
    var figures = JSON.parse(source.textContent);
    canvas.parentElement.hidden = false;
    var colours = { done: "#1a7f4b", reserved: "#b25e09", queued: "#9db3e6" };
    canvas.parentElement.style.height = Math.max(140, 42 * figures.labels.length + 70) + "px";
    canvas.chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: figures.labels,
        datasets: figures.series.map(function (s) {
          return { label: s.label, data: s.data, backgroundColor: colours[s.key], borderWidth: 0 };
        }),
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
