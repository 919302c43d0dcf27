/* Dashboard charts from the stats embedded in the page (Chart.js, served from this app). */
(function () {
  "use strict";
  var node = document.getElementById("stats-data");
  if (!node || typeof Chart === "undefined") { return; }
  var stats = JSON.parse(node.textContent);
  var palette = ["#1f6feb", "#2da44e", "#cf222e", "#8250df", "#bf8700", "#0a7ea4"];
  var COLOURS = {offices_dialed: "#8250df", offices_connected: "#2da44e"};  // red only for bad news
  var labels = stats.days.map(function (d) { return d === stats.today ? "today" : d.slice(5); });

  document.querySelectorAll("canvas[data-group]").forEach(function (canvas) {
    var series = stats.groups[canvas.dataset.group] || [];
    new Chart(canvas, {
      type: "line",
      data: {labels: labels, datasets: series.map(function (s, i) {
        var colour = COLOURS[s.name] || palette[i % palette.length];
        return {label: s.label, data: s.data, borderColor: colour, backgroundColor: colour, tension: 0.25,
                pointRadius: 2};
      })},
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                interaction: {mode: "index", intersect: false},
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
    });
  });

  var interests = document.getElementById("chart-interests");
  if (interests && stats.interests.length) {
    new Chart(interests, {
      type: "bar",
      data: {labels: stats.interests.map(function (r) { return r.keyword; }),
             datasets: [{label: "Subscribers", data: stats.interests.map(function (r) { return r.subscribers; }),
                         backgroundColor: palette[0]}]},
      options: {indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
                scales: {x: {beginAtZero: true, ticks: {precision: 0}}}}
    });
  }

  var byDemand = document.getElementById("chart-calls-demand");
  var demandRows = stats.tables && stats.tables.calls_by_demand ? stats.tables.calls_by_demand.rows : [];
  if (byDemand && demandRows.length) {
    byDemand.parentNode.style.height = Math.max(160, 34 * demandRows.length + 60) + "px";
    new Chart(byDemand, {
      type: "bar",
      data: {labels: demandRows.map(function (r) { return r.label; }),
             datasets: [{label: "Offices dialed", data: demandRows.map(function (r) { return r.dialed; }),
                         backgroundColor: palette[0]},
                        {label: "Connected", data: demandRows.map(function (r) { return r.connected; }),
                         backgroundColor: palette[1]}]},
      options: {indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
                scales: {x: {beginAtZero: true, ticks: {precision: 0}}}}
    });
  }
}());
